#!/usr/bin/env node
// Lists files over a line limit and functions over a line limit (issue 12's review limits), using the
// TypeScript parser: node scripts/code-size.mjs [--file-lines 600] [--function-lines 80] [DIR…]
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  if (i < 0) return fallback;
  const [value] = args.splice(i, 2).slice(1);
  return Number(value);
};
const fileLimit = option('--file-lines', 600);
const functionLimit = option('--function-lines', 80);
const roots = args.length ? args : ['src-main/engine'];

const files = (dir) =>
  readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : /\.(ts|mts)$/.test(name) && !name.endsWith('.d.ts') ? [path] : [];
  });

let problems = 0;
for (const file of roots.flatMap(files)) {
  const text = readFileSync(file, 'utf8');
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const lineOf = (pos) => source.getLineAndCharacterOfPosition(pos).line + 1;
  const lines = text.split('\n').length;
  if (lines > fileLimit) {
    problems++;
    console.log(`${file}: ${lines} lines (limit ${fileLimit})`);
  }
  const visit = (node) => {
    if (ts.isFunctionLike(node) && node.body) {
      const length = lineOf(node.end) - lineOf(node.getStart(source)) + 1;
      if (length > functionLimit) {
        problems++;
        const name =
          node.name?.getText(source) ?? (ts.isVariableDeclaration(node.parent) ? node.parent.name.getText(source) : '(anonymous)');
        console.log(`${file}:${lineOf(node.getStart(source))}: function ${name}: ${length} lines (limit ${functionLimit})`);
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
}
console.log(problems ? `${problems} over the limits` : 'within the limits');
