import { freePorts } from '../../lib/store/dev-server';

test('freePorts gives distinct ports, none of those already taken (a server given one port twice will not start)', async () => {
  const [taken] = await freePorts(1);
  const ports = await freePorts(40, [taken]);
  expect(new Set(ports).size).toBe(40);
  expect(ports).not.toContain(taken);
});
