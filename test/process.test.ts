// The supervisor's stop against real processes: a process group with a child that
// outlives its parent (as keepalived's VRRP process and HAProxy's workers can).
import assert from 'node:assert/strict';
import { access, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { groupAlive, isRunning, startProcess, stopProcess, type ProcessRecord } from '../src/runtime/process.ts';

describe('stopProcess', () => {
  it('returns only once every process of the group is gone, a child that takes its time to stop included', { timeout: 60_000 }, async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'promha-process-'));
    let p: ProcessRecord | undefined;
    try {
      const ready = path.join(dir, 'child-ready');
      const marker = path.join(dir, 'child-stopped');
      // The child needs a second after SIGTERM and then writes the marker; the parent exits at once.
      // It says when its trap is set: a SIGTERM before that would end it at once.
      const child = `trap 'sleep 1; echo done > ${marker}; exit 0' TERM; echo ready > ${ready}; while :; do sleep 0.1; done`;
      p = startProcess({ name: 'group', binary: '/bin/sh', args: ['-c', `/bin/sh -c "${child}" & wait`], log: path.join(dir, 'log'), stateRoot: dir });
      const deadline = Date.now() + 30_000;
      while (!(await access(ready).then(() => true, () => false))) {
        assert.ok(Date.now() < deadline, 'the child did not set its trap within 30 s');
        await new Promise((r) => setTimeout(r, 25));
      }
      assert.ok(isRunning(p) && groupAlive(p.pid));
      await stopProcess(p);
      assert.equal(groupAlive(p.pid), false, 'no process of the group left');
      assert.equal((await readFile(marker, 'utf8')).trim(), 'done', 'the child finished its stop before stopProcess returned');
    } finally {
      // Stopped on any failure above as well (a no-op once the group is gone).
      if (p && groupAlive(p.pid)) await stopProcess(p, 1000);
      await rm(dir, { recursive: true, force: true });
    }
  });
});
