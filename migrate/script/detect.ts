/**
 * Does a step need TypeORM? Loading it costs ~0.2 s of start-up, and most scripts (Heat's among
 * them) only send SQL through `migrate_engine.query/execute`. A module script gets a TypeORM
 * QueryRunner when its code — or code it imports by a relative path — names `queryRunner` or one of
 * TypeORM's schema classes. A script that reaches TypeORM some other way (through a package it
 * imports) gets a clear error telling it to mention `migrate_engine.queryRunner` in the script.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { ScriptFile } from '../repository.js';

const USES = /\b(queryRunner|Table|TableColumn|TableIndex|TableForeignKey|TableUnique)\b/;
const IMPORT = /(?:^|[^.\w])(?:import|export)(?!\s+type\b)[^'"`;]*?from\s*['"](\.{1,2}\/[^'"]+)['"]|import\s*\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g;

/** Code without comments (string contents are kept: good enough for a name search). */
function code(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, ' ').replace(/(^|[^:'"\\])\/\/.*$/gm, '$1');
}

function resolveImport(from: string, spec: string): string | null {
  const base = resolve(dirname(from), spec);
  const candidates = [base, base.replace(/\.js$/, '.ts'), base.replace(/\.mjs$/, '.mts'), `${base}.js`, `${base}.ts`];
  return candidates.find((c) => existsSync(c)) ?? null;
}

function mentions(file: string, seen: Set<string>): boolean {
  if (seen.has(file) || seen.size > 200) return false;
  seen.add(file);
  let text: string;
  try {
    text = code(readFileSync(file, 'utf8'));
  } catch {
    return true; // cannot tell: be safe
  }
  if (USES.test(text)) return true;
  for (const m of text.matchAll(IMPORT)) {
    const target = resolveImport(file, (m[1] ?? m[2])!);
    if (target && mentions(target, seen)) return true;
  }
  return false;
}

export function needsTypeorm(scripts: readonly ScriptFile[]): boolean {
  const seen = new Set<string>();
  return scripts.some((s) => s.kind !== 'sql' && mentions(s.absPath, seen));
}
