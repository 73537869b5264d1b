import type { CheckRule } from '../finding.ts';

export const securityTls: CheckRule = {
  code: 'PH1001',
  name: 'security-tls',
  description: 'Credentials never cross a link without TLS, and TLS always verifies the server.',
  *run({ topology }) {
    const sec = topology.spec.security;
    if (!sec) return;
    if (sec.basic_auth && !sec.tls)
      yield {
        severity: 'error',
        message: 'basic_auth without tls: every federator scrape, push and alert would carry the password in clear text',
        location: topology.locate(['security', 'basic_auth'], { key: true }),
        hint: 'add `tls: {}` under security (promha generates a CA), or supply certificates under tls.ca',
      };
    if (sec.tls?.insecure_skip_verify)
      yield {
        severity: 'error',
        message: 'insecure_skip_verify: clients accept any certificate, so anyone on the path can impersonate a member and collect the password',
        location: topology.locate(['security', 'tls', 'insecure_skip_verify']),
        hint: 'remove it; give every member a certificate with its address as SAN (`ca: generate` does)',
      };
  },
};
