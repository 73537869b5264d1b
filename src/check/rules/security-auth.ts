import type { CheckRule } from '../finding.ts';

export const securityAuth: CheckRule = {
  code: 'PH1002',
  name: 'security-auth',
  description: 'In secure mode every endpoint, /api/v1/read included, authenticates its clients; passwords live in files.',
  *run({ topology }) {
    const sec = topology.spec.security;
    if (!sec) return;
    if (sec.tls && !sec.basic_auth && sec.tls.client_certs === 'optional')
      yield {
        severity: 'error',
        message:
          'tls without basic_auth or required client certificates: anyone who can connect reads every API, /api/v1/read included (Prometheus 2.42 lacks the fix for CVE-2026-42154)',
        location: topology.locate(['security', 'tls'], { key: true }),
        hint: 'add `basic_auth: { password_file: ... }` under security, or set `client_certs: required`',
      };
    const auth = sec.basic_auth;
    if (auth?.password !== undefined)
      yield {
        severity: 'error',
        message: 'an inline password: it would end up in the topology file, its history and every copy of it',
        location: topology.locate(['security', 'basic_auth', 'password'], { key: true }),
        hint: 'move it into a file of mode 0600 and name that file in `password_file`',
      };
    if (auth && auth.password_file === undefined)
      yield {
        severity: 'error',
        message: 'basic_auth has no password_file',
        location: topology.locate(['security', 'basic_auth'], { key: true }),
        hint: 'write a long random password into a file (`openssl rand -base64 24 > FILE; chmod 600 FILE`) and name it in `password_file`',
      };
  },
};
