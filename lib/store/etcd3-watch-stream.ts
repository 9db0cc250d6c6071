import type { Etcd3, IWatchResponse } from 'etcd3';
import type { WatchStreamOpener } from './etcd-watch-stream';
import type { WatchResponseMessage } from './etcd-wire';
import type { WatchChange } from './store';

function message(res: IWatchResponse): WatchResponseMessage {
  const changes: WatchChange[] = res.events.map((ev) =>
    ev.type === 'Delete'
      ? { type: 'delete', key: ev.kv.key.toString('utf8'), modRevision: Number(ev.kv.mod_revision) }
      : {
          type: 'put',
          kv: {
            key: ev.kv.key.toString('utf8'),
            value: ev.kv.value.toString('utf8'),
            createRevision: Number(ev.kv.create_revision),
            modRevision: Number(ev.kv.mod_revision),
          },
        },
  );
  return {
    revision: Number(res.header.revision),
    clusterId: res.header.cluster_id,
    created: res.created,
    canceled: res.canceled,
    compactRevision: Number(res.compact_revision),
    cancelReason: res.cancel_reason,
    watchId: Number(res.watch_id),
    // etcd3 asks for whole batches.
    fragment: false,
    changes,
  };
}

/**
 * A watch through etcd3's watcher: the EtcdStore's path when `grpcOptions` asks for gRPC channel
 * settings that node:http2 cannot honour (see `http2WatchStream`, the default). etcd3 resumes on
 * its own after a disconnect from a revision that may skip events (docs/etcd-watch.md), so any
 * disconnect or error ends the stream here instead.
 *
 * @example
 * ```ts
 * const open = etcd3WatchStream(client);
 * ```
 */
export function etcd3WatchStream(client: Etcd3): WatchStreamOpener {
  return (key, rangeEnd, fromRevision, handlers) => {
    let done = false;
    // A stream of its own (each namespace has one): on a shared stream, a watch canceled by a
    // compaction left etcd3 throwing "Failed to find watcher" out of its stream handler (an
    // uncaught exception) and the other watches deaf.
    const watcher = client
      .namespace('')
      .watch()
      .inRange({ start: key, end: rangeEnd })
      .startRevision(String(fromRevision))
      .watcher();
    const finish = (report: () => void) => {
      if (done) return;
      done = true;
      void watcher.cancel().catch(() => undefined);
      report();
    };
    watcher.on('connected', (res) => !done && handlers.created(message(res)));
    watcher.on('data', (res) => !done && handlers.response(message(res)));
    watcher.on('disconnected', (error) => finish(() => handlers.failed(error)));
    watcher.on('error', (error) => {
      const text = String(error?.message ?? error);
      finish(() =>
        /cancel|compact/i.test(text) ? handlers.canceled(text) : handlers.failed(error),
      );
    });
    return { close: () => finish(() => undefined) };
  };
}
