// The dashboard page: reads everything from ./api with the key the user gives (kept for this tab
// only), builds the DOM with textContent (no HTML from data), and follows the live feed with
// fetch (EventSource cannot send the key).
/* global document */
'use strict';
(function () {
  var $ = function (id) {
    return document.getElementById(id);
  };
  var key = sessionStorage.getItem('eg-key') || '';
  var space = '';
  var feed = null;
  var paused = false;
  var timer = 0;
  var soonPending = false;
  var MAX_LIVE = 50;

  function el(tag, text, cls) {
    var node = document.createElement(tag);
    if (text !== undefined) node.textContent = text;
    if (cls) node.className = cls;
    return node;
  }
  function notice(text, error) {
    $('notice').textContent = text;
    $('notice').className = error ? 'error' : '';
  }
  function headers() {
    return key ? { 'x-api-key': key } : {};
  }
  function api(path, init) {
    init = init || {};
    init.headers = Object.assign(headers(), init.headers || {});
    return fetch('api/' + path, init).then(function (res) {
      return res.json().then(function (body) {
        if (res.ok) return body;
        var message = (body.errors && body.errors[0] && body.errors[0].message) || res.statusText;
        var error = new Error(message);
        error.status = res.status;
        throw error;
      });
    });
  }
  function failed(error) {
    if (error.status === 401 || error.status === 403) {
      notice(error.message + ' Enter an API key with read scope.', true);
      $('key').focus();
    } else notice(error.message, true);
  }
  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
    return node;
  }
  function at(ms) {
    return new Date(ms).toLocaleTimeString();
  }
  function encode(name) {
    return encodeURIComponent(name);
  }

  function loadSpaces() {
    return api('spaces').then(function (body) {
      var select = clear($('space'));
      body.spaces.forEach(function (name) {
        var option = el('option', name);
        option.value = name;
        select.appendChild(option);
      });
      if (body.spaces.length === 0) return notice('No space is configured yet.');
      space = body.spaces.indexOf(space) >= 0 ? space : body.spaces[0];
      select.value = space;
      notice('Showing space "' + space + '".');
      return loadSpace();
    }, failed);
  }

  function loadSpace() {
    follow();
    refresh();
    loadReplay();
    return api('spaces/' + encode(space)).then(renderGraph, failed);
  }

  function refresh() {
    clearTimeout(timer);
    timer = setTimeout(refresh, 5000);
    api('status').then(renderHealth, function () {});
    if (space) api('spaces/' + encode(space) + '/stats').then(renderStats, function () {});
  }

  function renderHealth(h) {
    var dl = clear($('health'));
    function row(name, value) {
      // A key for some spaces is not told the gateway's figures.
      if (value === undefined) return;
      dl.appendChild(el('dt', name));
      dl.appendChild(el('dd', String(value)));
    }
    row('Ready', h.ready ? 'yes' : 'no');
    row(
      'Store',
      h.store +
        (h.watching ? ', watching' : ', not watching') +
        (h.storeFailing ? ', failing' : ''),
    );
    if (h.storeError) row('Store error', h.storeError);
    row('Configuration revision', h.revision);
    row('Deliveries pending', h.pendingDeliveries);
    (h.plugins || []).forEach(function (p) {
      var stats = Object.keys(p.stats || {}).map(function (k) {
        return k + ' ' + p.stats[k];
      });
      row(
        'Plugin ' + p.name,
        p.events +
          ' events, ' +
          p.refused +
          ' refused, ' +
          p.failed +
          ' failed' +
          (stats.length ? '; ' + stats.join(', ') : ''),
      );
    });
    if (!h.journal) return row('Journal', 'none');
    if (h.journal.entries !== undefined) {
      row(
        'Journal entries',
        h.journal.entries +
          ' (' +
          h.journal.waiting +
          ' waiting, ' +
          h.journal.damaged +
          ' damaged)',
      );
    }
    row(
      'Journal state',
      h.journal.failing
        ? 'failing' + (h.journal.lastError ? ': ' + h.journal.lastError : '')
        : 'recording',
    );
  }

  function fnLine(fn, id) {
    var li = el('li');
    li.appendChild(el('span', 'function', 'kind'));
    li.appendChild(el('code', id));
    if (fn) {
      var where =
        fn.provider &&
        (fn.provider.url || fn.provider.arn || fn.provider.queueUrl || fn.provider.streamName);
      li.appendChild(document.createTextNode(' ' + fn.type + (where ? ' ' + where : '')));
    } else li.appendChild(document.createTextNode(' (not registered)'));
    return li;
  }

  function renderGraph(g) {
    var root = clear($('graph'));
    var fns = {};
    g.functions.forEach(function (fn) {
      fns[fn.functionId] = fn;
    });
    var used = {};
    var types = g.eventTypes.map(function (t) {
      return t.name;
    });
    g.subscriptions.forEach(function (s) {
      if (types.indexOf(s.eventType) < 0) types.push(s.eventType);
    });
    types.forEach(function (name) {
      var type = g.eventTypes.filter(function (t) {
        return t.name === name;
      })[0];
      var li = el('li');
      li.appendChild(el('span', 'event type', 'kind'));
      li.appendChild(el('code', name));
      if (type && type.authorizerId) {
        li.appendChild(document.createTextNode(' authorized by '));
        li.appendChild(el('code', type.authorizerId));
      }
      var subs = el('ul');
      subs.setAttribute('aria-label', 'Subscriptions of ' + name);
      g.subscriptions
        .filter(function (s) {
          return s.eventType === name;
        })
        .forEach(function (s) {
          used[s.functionId] = true;
          var sub = el('li');
          sub.appendChild(el('span', s.type + ' subscription', 'kind'));
          sub.appendChild(el('code', s.method + ' ' + s.path));
          if (s.filter) {
            sub.appendChild(document.createTextNode(' filter '));
            sub.appendChild(el('code', JSON.stringify(s.filter)));
          }
          var to = el('ul');
          to.appendChild(fnLine(fns[s.functionId], s.functionId));
          sub.appendChild(to);
          subs.appendChild(sub);
        });
      if (subs.firstChild) li.appendChild(subs);
      root.appendChild(li);
    });
    g.functions.forEach(function (fn) {
      if (!used[fn.functionId]) root.appendChild(fnLine(fn, fn.functionId));
    });
    if (!root.firstChild) root.appendChild(el('li', 'Nothing is configured in this space.'));
  }

  function renderStats(body) {
    var tbody = clear($('stats'));
    body.functions.forEach(function (f) {
      var ok = 0,
        bad = 0,
        timed = 0,
        total = 0,
        max = 0;
      f.buckets.forEach(function (b) {
        ok += b.succeeded;
        bad += b.failed;
        timed += b.timed;
        total += b.totalMs;
        max = Math.max(max, b.maxMs);
      });
      var tr = el('tr');
      tr.appendChild(el('th', f.functionId)).setAttribute('scope', 'row');
      tr.appendChild(el('td', ((ok + bad) / 5).toFixed(1)));
      // Durations are known for what ended while a page was open.
      tr.appendChild(el('td', timed ? (total / timed).toFixed(1) + ' ms' : '-'));
      tr.appendChild(el('td', timed ? max.toFixed(1) + ' ms' : '-'));
      tr.appendChild(el('td', ok + bad ? ((100 * bad) / (ok + bad)).toFixed(1) + ' %' : '-'));
      var trend = el('td');
      var peak = Math.max.apply(
        null,
        f.buckets
          .map(function (b) {
            return b.succeeded + b.failed;
          })
          .concat([1]),
      );
      f.buckets.forEach(function (b) {
        var bar = el('span', undefined, 'bar');
        bar.style.height = Math.max(1, Math.round((16 * (b.succeeded + b.failed)) / peak)) + 'px';
        trend.appendChild(bar);
      });
      trend.setAttribute(
        'aria-label',
        'invocations per 10 s: ' +
          f.buckets
            .map(function (b) {
              return b.succeeded + b.failed;
            })
            .join(', '),
      );
      tr.appendChild(trend);
      tbody.appendChild(tr);
    });
    var dead = clear($('dead'));
    body.deadLetters
      .slice()
      .reverse()
      .forEach(function (d) {
        var tr = el('tr');
        tr.appendChild(el('td', at(d.at)));
        tr.appendChild(el('td', d.functionId));
        tr.appendChild(el('td', d.eventId + ' (' + d.type + ')'));
        tr.appendChild(el('td', d.reason));
        dead.appendChild(tr);
      });
  }

  function describe(e) {
    if (e.kind === 'received') return 'received ' + e.type + ' ' + e.eventId + ' from ' + e.source;
    if (e.kind === 'invoked')
      return (
        'delivered ' + e.eventId + ' to ' + e.functionId + ' in ' + e.durationMs.toFixed(1) + ' ms'
      );
    if (e.kind === 'failed')
      return 'dead letter ' + e.eventId + ' for ' + e.functionId + ': ' + e.reason;
    return 'refused ' + e.eventId + ': ' + e.reason;
  }

  function onLine(event, data) {
    if (event === 'dropped') {
      $('dropped').textContent = 'Busy: ' + data + ' events not shown.';
      return;
    }
    var e = JSON.parse(data);
    if (e.kind === 'failed' && !soonPending) {
      // One refresh of the dead letters for a burst of failures.
      soonPending = true;
      setTimeout(function () {
        soonPending = false;
        refresh();
      }, 300);
    }
    if (paused) return;
    var list = $('live');
    list.insertBefore(el('li', at(e.at) + ' ' + describe(e), e.kind), list.firstChild);
    while (list.childNodes.length > MAX_LIVE) list.removeChild(list.lastChild);
  }

  function follow() {
    if (feed) feed.abort();
    var controller = (feed = new AbortController());
    fetch('api/spaces/' + encode(space) + '/events', {
      headers: headers(),
      signal: controller.signal,
    })
      .then(function (res) {
        if (!res.ok) throw new Error('live feed: HTTP ' + res.status);
        var reader = res.body.getReader();
        var decoder = new TextDecoder();
        var text = '';
        function pump() {
          return reader.read().then(function (r) {
            if (r.done) return;
            text += decoder.decode(r.value, { stream: true });
            var end;
            while ((end = text.indexOf('\n\n')) >= 0) {
              var block = text.slice(0, end);
              text = text.slice(end + 2);
              var name = 'message',
                data = [];
              block.split('\n').forEach(function (line) {
                if (line.indexOf('event: ') === 0) name = line.slice(7);
                else if (line.indexOf('data: ') === 0) data.push(line.slice(6));
              });
              if (data.length) onLine(name, data.join('\n'));
            }
            return pump();
          });
        }
        return pump();
      })
      .catch(function (error) {
        if (controller.signal.aborted) return;
        notice('The live feed stopped (' + error.message + '); retrying.', true);
        setTimeout(function () {
          if (feed === controller) follow();
        }, 2000);
      });
  }

  function explain(submit) {
    submit.preventDefault();
    var out = clear($('explained'));
    var event;
    try {
      event = JSON.parse($('x-event').value);
    } catch {
      out.appendChild(el('li', 'The event is not valid JSON.', 'failed'));
      return;
    }
    api('spaces/' + encode(space) + '/explain', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ event: event, method: $('x-method').value, path: $('x-path').value }),
    }).then(
      function (x) {
        if (x.subscriptions.length === 0)
          out.appendChild(
            el('li', 'No subscription of ' + x.eventType + ' at ' + x.method + ' ' + x.path + '.'),
          );
        x.subscriptions.forEach(function (s) {
          var miss = s.failed
            ? ' (filter failed at ' + s.failed.field + ', ' + s.failed.operator + ')'
            : '';
          out.appendChild(
            el(
              'li',
              (s.matched ? 'would deliver to ' : 'would not deliver to ') + s.functionId + miss,
              s.matched ? '' : 'failed',
            ),
          );
        });
      },
      function (error) {
        out.appendChild(el('li', error.message, 'failed'));
      },
    );
  }

  // The replay form shows only when the server has an archive to read; its limits say how far.
  function loadReplay() {
    api('spaces/' + encode(space) + '/replay').then(
      function (r) {
        $('replay').hidden = !r.configured;
        $('replay-state').textContent = r.configured
          ? "What a replay of this space's archived events would deliver; nothing is sent. At most " +
            r.maxWindowMs / 3600000 +
            ' h of window and ' +
            r.maxEvents +
            ' events read per run.'
          : 'Replay is not configured: the gateway has no archive to read.';
        if (r.configured && !$('r-from').value) {
          var now = Date.now();
          $('r-from').value = new Date(now - 3600000).toISOString();
          $('r-to').value = new Date(now).toISOString();
        }
      },
      function () {},
    );
  }

  function replay(submit) {
    submit.preventDefault();
    var out = clear($('replayed'));
    out.appendChild(el('p', 'Reading the archive...'));
    var button = $('replay').querySelector('button');
    button.setAttribute('aria-busy', 'true');
    api('spaces/' + encode(space) + '/replay', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        from: $('r-from').value.trim(),
        to: $('r-to').value.trim(),
        type: $('r-type').value.trim(),
      }),
    })
      .then(
        function (r) {
          clear(out);
          out.appendChild(
            el(
              'p',
              r.read +
                ' events read, ' +
                r.emitted +
                ' would be replayed, ' +
                r.refused +
                ' refused, ' +
                r.deliveries +
                ' deliveries' +
                (r.complete
                  ? '.'
                  : ' (stopped at the ' + r.stoppedBy + ' limit: a part of the window).'),
            ),
          );
          if (r.lastRefusal) out.appendChild(el('p', 'Last refusal: ' + r.lastRefusal, 'failed'));
          var list = el('ul');
          list.setAttribute('aria-label', 'Deliveries per function');
          r.byFunction.forEach(function (f) {
            list.appendChild(
              el(
                'li',
                f.functionId +
                  ': ' +
                  f.deliveries +
                  (f.deliveries === 1 ? ' delivery' : ' deliveries'),
              ),
            );
          });
          if (r.functionsNotShown)
            list.appendChild(el('li', 'and ' + r.functionsNotShown + ' more functions'));
          out.appendChild(list);
        },
        function (error) {
          clear(out);
          out.appendChild(el('p', error.message, 'failed'));
        },
      )
      .then(function () {
        button.removeAttribute('aria-busy');
      });
  }

  $('access').addEventListener('submit', function (submit) {
    submit.preventDefault();
    key = $('key').value.trim();
    sessionStorage.setItem('eg-key', key);
    loadSpaces();
  });
  $('space').addEventListener('change', function () {
    space = $('space').value;
    clear($('live'));
    loadSpace();
  });
  $('pause').addEventListener('click', function () {
    paused = !paused;
    $('pause').textContent = paused ? 'Resume' : 'Pause';
    $('pause').setAttribute('aria-pressed', String(paused));
  });
  $('explain').addEventListener('submit', explain);
  $('replay').addEventListener('submit', replay);
  notice('Loading...');
  loadSpaces();
})();
