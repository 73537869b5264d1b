import { promqlDiagnostics } from '../../promql/analyze.ts';
import type { CheckRule } from '../finding.ts';

export const ruleFiles: CheckRule = {
  code: 'PH801',
  name: 'rule-files',
  description: 'Rule files are valid Prometheus rule files and every expression is valid PromQL.',
  *run({ topology, release }) {
    for (const file of topology.ruleFiles) {
      for (const p of file.parsed.problems)
        yield { severity: 'error', message: p.message, location: p.location, hint: p.hint ?? 'see the Prometheus rule file format' };
      for (const rule of file.parsed.rules)
        for (const d of promqlDiagnostics(rule.expr, release.promql))
          yield {
            severity: d.severity,
            message: `${rule.kind === 'alert' ? 'alert' : 'recording rule'} ${rule.name}: ${d.message}`,
            location: rule.exprLocation(d.from),
            hint: d.severity === 'error' ? 'fix the expression; `promtool check rules` has the final word' : 'check the expression',
          };
    }
  },
};

export const federateMatch: CheckRule = {
  code: 'PH802',
  name: 'federate-match',
  description: 'Every federate match[] selector is a valid series selector.',
  *run({ topology, release }) {
    for (const [i, m] of topology.spec.federators.match.entries()) {
      const errors = promqlDiagnostics(m, release.promql).filter((d) => d.severity === 'error');
      const valid = errors.length === 0 && /^[a-zA-Z_:]*[a-zA-Z0-9_:]*\s*(\{.*\})?$/s.test(m.trim());
      if (!valid)
        yield {
          severity: 'error',
          message: `match[] "${m}" is not a series selector${errors[0] ? `: ${errors[0].message}` : ''}`,
          location: topology.locate(['federators', 'match', i]),
          hint: 'use a selector such as {__name__=~".+"} or {job="node"}',
        };
    }
  },
};
