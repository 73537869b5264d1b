/**
 * The seed's exact topology as a commented starter file: 4 scraper sets,
 * 2 pushgateway sets behind VIPs, 1 federator set, 2 active + 1 backup Alertmanager.
 *
 * Addresses come from the ranges reserved for documentation (192.0.2.0/24,
 * 198.51.100.0/24, 203.0.113.0/24): placeholders to replace with the real ones.
 * IPs rather than names, because keepalived and Alertmanager gossip need IPs.
 */
export function seedTopology(schemaRef: string): string {
  const pair = (set: string, base: number, port: number, indent: string) =>
    [1, 2].map((i) => `${indent}- name: ${set}-${i}\n${indent}  address: 198.51.100.${base + i}:${port}`).join('\n');
  const scraper = (n: number) => `  - name: scraper${n}
    exporters: [exporters${n}]
    storage:
      retention: 6h        # scrapers keep little and persist nothing
    members:
${pair(`scraper${n}`, 10 * n, 9090, '      ')}`;
  const exporters = (n: number) => `  - name: exporters${n}
    targets:
      - 203.0.113.${10 * n + 1}:9100
      - 203.0.113.${10 * n + 2}:9100`;
  const gateway = (n: number, jobs: string) => `  - name: pushgateway${n}
    vip:
      address: 192.0.2.${100 + n}:9091   # what pushers use; federators never scrape it
      interface: eth0
    jobs:
${jobs}
    members:
${pair(`pushgateway${n}`, 40 + 10 * n, 9091, '      ')}`;
  return `# yaml-language-server: $schema=${schemaRef}
#
# promha topology: the seed's high-availability Prometheus system.
#   exporters <- scraper pairs <- federator pair -> Alertmanager pair (+ backup member)
#   pushers -> VIP -> pushgateway pairs <- federator pair
# Check it with \`promha check\`, write every node's config with \`promha render --out out/\`.
version: 1

# Prometheus forgets a series after 5m without data: keep every interval well inside
# that (the seed advises 30s or 1m).
intervals:
  scrape: 30s
  push: 30s
  federate: 30s
  evaluate: 30s

# Groups of exporters; each is scraped by exactly one scraper set. Use \`targets\` for
# static host:port lists or \`scrape_configs\` for any standard Prometheus scrape config.
exporters:
${[1, 2, 3, 4].map(exporters).join('\n')}

# Scraper sets: two members each, both scraping the same exporters.
scrapers:
${[1, 2, 3, 4].map(scraper).join('\n')}

# Pushgateway sets: two members behind a VIP (keepalived, no failback). \`jobs\` tells
# promha which metrics are pushed, so rules on them get checked for keep_firing_for.
pushgateways:
${gateway(1, '      - name: batch-backup\n        metrics: [backup_last_success_timestamp_seconds]')}
${gateway(2, '      - name: batch-report\n        metrics: [report_last_success_timestamp_seconds]')}

# The federator pair scrapes every scraper and pushgateway member directly, evaluates
# the rules and persists enough history for them (retention: auto).
federators:
  name: federator1
  storage:
    path: /var/lib/promha/federator
    retention: auto
  match: ['{__name__=~".+"}']
  rule_files: []           # e.g. [rules/*.yml], relative to this file
  members:
${pair('federator1', 70, 9090, '    ')}

# Two active Alertmanagers receive the federators' alerts and notify; the backup member
# only joins the gossip cluster so silences and the notification log survive.
alertmanagers:
  name: alertmanager1
  peer_timeout: auto       # 3.5 x evaluate; (members - 1) x peer_timeout < group_interval
  members:
${pair('alertmanager1', 80, 9093, '    ')}
  backup:
    name: alertmanager1-3
    address: 198.51.100.83:9093
  route:
    receiver: default
    group_by: [alertname, job]
    group_wait: 30s
    group_interval: 5m
    repeat_interval: 4h
  receivers:
    - name: default
      webhook_configs:
        - url: http://203.0.113.200:5001/

# Secure mode: TLS (a generated CA, or your certificates) and basic auth on every link,
# mutual TLS on the Alertmanager gossip. The password lives in a file of mode 0600.
# security:
#   tls: { ca: generate }
#   basic_auth: { username: promha, password_file: secrets/promha.password }
`;
}
