import path from 'node:path';
import type { CheckRule } from '../finding.ts';

/** Kubernetes' ConfigMap key grammar; rendered rule files are stored as keys `rules_<name>`. */
const CONFIG_MAP_KEY = /^[-._a-zA-Z0-9]+$/;
/** 253 for a key, less "rules_" and a "2-" that tells apart files of the same name. */
const MAX_NAME = 245;

export const ruleFileNames: CheckRule = {
  code: 'PH803',
  name: 'rule-file-names',
  description:
    'Rule file names are letters, digits, ".", "-" and "_": Prometheus reads rule_files as glob patterns, and Kubernetes takes only such ConfigMap keys.',
  *run({ topology }) {
    for (const file of topology.ruleFiles) {
      if (file.entry < 0) continue;
      const name = path.basename(file.name);
      const location = topology.locate(['federators', 'rule_files', file.entry]);
      const hint = `rename "${file.name}" to letters, digits, ".", "-" and "_" only, e.g. ${JSON.stringify(name.replace(/[^-._a-zA-Z0-9]/g, '-'))}`;
      if (!CONFIG_MAP_KEY.test(name)) {
        const chars = [...new Set(name.replace(/[-._a-zA-Z0-9]/g, ''))].map((c) => JSON.stringify(c)).join(', ');
        const why = /[*?[\]\\]/.test(name)
          ? 'Prometheus reads rule_files as glob patterns'
          : 'the rendered file is a ConfigMap key for --target kubernetes, which takes letters, digits, ".", "-" and "_" only';
        yield { severity: 'error', message: `rule file name "${name}" has ${chars}: ${why}`, location, hint };
      }
      else if (name.length > MAX_NAME)
        yield { severity: 'error', message: `rule file name "${name}" is longer than ${MAX_NAME} characters: no ConfigMap key`, location, hint: 'use a shorter name' };
    }
  },
};
