import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { mkdtemp, rm } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { memberUrl, useClientSecurity } from '../src/probe/client-security.ts';
import { isOk } from '../src/probe/http.ts';
import { ensureCa, issueCertificate } from '../src/security/certificates.ts';

/*
 * promha's own clients in secure mode: https with the stack's CA and client
 * certificate, basic auth only over TLS, nothing added to plain-HTTP requests.
 */

describe('client security of the probe clients', () => {
  let dir: string;
  let tlsServer: https.Server;
  let plainServer: http.Server;
  const seen: Array<{ tls: boolean; authorization?: string; peerCert: boolean }> = [];
  let tlsAddress: string;
  let plainAddress: string;

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'promha-client-'));
    const ca = await ensureCa(path.join(dir, 'ca'));
    const server = await issueCertificate(ca, 'server', ['127.0.0.1']);
    const client = await issueCertificate(ca, 'client', []);
    tlsServer = https.createServer({ cert: server.cert, key: server.key, ca: ca.cert, requestCert: true, rejectUnauthorized: false }, (req, res) => {
      const socket = req.socket as import('node:tls').TLSSocket;
      seen.push({ tls: true, ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}), peerCert: socket.authorized });
      res.end('ok');
    });
    plainServer = http.createServer((req, res) => {
      seen.push({ tls: false, ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}), peerCert: false });
      res.end('ok');
    });
    await new Promise<void>((r) => tlsServer.listen(0, '127.0.0.1', r));
    await new Promise<void>((r) => plainServer.listen(0, '127.0.0.1', r));
    tlsAddress = `127.0.0.1:${(tlsServer.address() as AddressInfo).port}`;
    plainAddress = `127.0.0.1:${(plainServer.address() as AddressInfo).port}`;
    useClientSecurity({ ca: ca.cert, cert: client.cert, key: client.key, username: 'promha', password: 'pw-123456' });
  });

  after(async () => {
    useClientSecurity(undefined);
    tlsServer.close();
    plainServer.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('reaches members over https with the CA, the client certificate and basic auth', async () => {
    assert.equal(memberUrl(tlsAddress), `https://${tlsAddress}`);
    assert.equal(await isOk(`${memberUrl(tlsAddress)}/-/ready`), true);
    assert.deepEqual(seen.pop(), { tls: true, authorization: `Basic ${Buffer.from('promha:pw-123456').toString('base64')}`, peerCert: true });
  });

  it('sends no credentials over plain HTTP', async () => {
    assert.equal(await isOk(`http://${plainAddress}/-/ready`), true);
    assert.deepEqual(seen.pop(), { tls: false, peerCert: false });
  });

  it('trusts no other CA', async () => {
    useClientSecurity({ ca: (await ensureCa(path.join(dir, 'other'), 'other')).cert });
    try {
      assert.equal(await isOk(`https://${tlsAddress}/-/ready`), false);
    } finally {
      useClientSecurity(undefined);
    }
    assert.equal(memberUrl(tlsAddress), `http://${tlsAddress}`);
  });
});
