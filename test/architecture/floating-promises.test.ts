import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../support/harness.ts';

/**
 * Every repository returns a promise, so a call without `await` is a write that may never happen
 * (or a read that is always truthy). This scan, on the type checker, finds in src the promises
 * that nobody awaits: a statement that is only a promise, a promise used as a condition, and a
 * callback given to forEach that returns one. `void p` marks a promise left running on purpose.
 */

type Finding = string;

function isPromise(checker: ts.TypeChecker, node: ts.Node, type = checker.getTypeAtLocation(node)): boolean {
  const parts = type.isUnion() ? type.types : [type];
  // `Promise | undefined` is tested for presence, not truth of a result.
  if (parts.some((t) => t.flags & (ts.TypeFlags.Undefined | ts.TypeFlags.Null))) return false;
  return parts.some((t) => {
    const then = t.getProperty('then');
    return then !== undefined && (t.getSymbol()?.getName() === 'Promise' || checker.getTypeOfSymbolAtLocation(then, node).getCallSignatures().length > 0);
  });
}

function scan(program: ts.Program, files: readonly ts.SourceFile[]): Finding[] {
  const checker = program.getTypeChecker();
  const findings: Finding[] = [];
  const report = (node: ts.Node, what: string) => {
    const sf = node.getSourceFile();
    const { line } = sf.getLineAndCharacterOfPosition(node.getStart());
    findings.push(`${path.relative(ROOT, sf.fileName)}:${line + 1}: ${what}: ${node.getText().slice(0, 80)}`);
  };
  const visit = (node: ts.Node) => {
    if (ts.isExpressionStatement(node)) {
      const e = node.expression;
      // A promise whose rejection is handled here (`.catch(f)`, `.then(f, g)`) is not floating.
      const handled =
        ts.isCallExpression(e) &&
        ts.isPropertyAccessExpression(e.expression) &&
        ((e.expression.name.text === 'catch' && e.arguments.length === 1) || (e.expression.name.text === 'then' && e.arguments.length === 2));
      if (!handled && !ts.isVoidExpression(e) && !ts.isAwaitExpression(e) && !(ts.isBinaryExpression(e) && e.operatorToken.kind === ts.SyntaxKind.EqualsToken)) {
        if (isPromise(checker, e)) report(e, 'promise not awaited');
      }
    }
    const conditions: ts.Expression[] = [];
    if (ts.isIfStatement(node) || ts.isWhileStatement(node) || ts.isDoStatement(node)) conditions.push(node.expression);
    if (ts.isConditionalExpression(node)) conditions.push(node.condition);
    if (ts.isPrefixUnaryExpression(node) && node.operator === ts.SyntaxKind.ExclamationToken) conditions.push(node.operand);
    if (ts.isBinaryExpression(node) && [ts.SyntaxKind.AmpersandAmpersandToken, ts.SyntaxKind.BarBarToken].includes(node.operatorToken.kind)) conditions.push(node.left);
    for (const c of conditions) if (isPromise(checker, c)) report(c, 'promise used as a condition');
    if (ts.isCallExpression(node) && ts.isPropertyAccessExpression(node.expression) && node.expression.name.text === 'forEach') {
      const callback = node.arguments[0];
      if (callback && (ts.isArrowFunction(callback) || ts.isFunctionExpression(callback))) {
        const signature = checker.getSignatureFromDeclaration(callback);
        if (signature && isPromise(checker, callback, checker.getReturnTypeOfSignature(signature))) {
          report(callback, 'forEach callback returns a promise nobody awaits');
        }
      }
    }
    ts.forEachChild(node, visit);
  };
  for (const sf of files) visit(sf);
  return findings;
}

function programOf(rootNames: string[]): ts.Program {
  const configFile = ts.readConfigFile(path.join(ROOT, 'tsconfig.json'), ts.sys.readFile);
  const parsed = ts.parseJsonConfigFileContent(configFile.config, ts.sys, ROOT);
  return ts.createProgram({ rootNames, options: parsed.options });
}

describe('no floating promises in src', () => {
  it('every promise in src is awaited, returned or explicitly voided', () => {
    const configFile = ts.readConfigFile(path.join(ROOT, 'tsconfig.json'), ts.sys.readFile);
    const parsed = ts.parseJsonConfigFileContent(configFile.config, ts.sys, ROOT);
    const sources = parsed.fileNames.filter((f) => f.startsWith(path.join(ROOT, 'src') + path.sep));
    expect(sources.length).toBeGreaterThan(50);
    const program = programOf(sources);
    const files = sources.map((f) => program.getSourceFile(f)!);
    expect(scan(program, files)).toEqual([]);
  }, 120_000);

  it('the scan finds a forgotten await, a promise as a condition and an async forEach', () => {
    const file = path.join(ROOT, 'test', 'architecture', 'floating-sample.ts');
    const text = [
      'async function write(): Promise<boolean> { return true; }',
      'export async function useCase(ids: string[]) {',
      '  write();',
      '  if (write()) return;',
      '  ids.forEach(async () => { await write(); });',
      '  await write();',
      '  void write();',
      '  write().catch(() => undefined);',
      '  const maybe = ids.length ? write() : undefined;',
      '  if (!maybe) return;',
      '}',
    ].join('\n');
    const host = ts.createCompilerHost({ strict: true, target: ts.ScriptTarget.ES2022 });
    const read = host.getSourceFile.bind(host);
    host.getSourceFile = (name, ...rest) => (name === file ? ts.createSourceFile(name, text, ts.ScriptTarget.ES2022, true) : read(name, ...rest));
    host.fileExists = ((exists) => (name: string) => name === file || exists(name))(host.fileExists.bind(host));
    const program = ts.createProgram({ rootNames: [file], options: { strict: true, target: ts.ScriptTarget.ES2022, lib: ['lib.es2022.d.ts'], noEmit: true }, host });
    const findings = scan(program, [program.getSourceFile(file)!]);
    expect(findings.map((f) => f.replace(/^.*?:(\d+): ([^:]+):.*$/, '$1 $2'))).toEqual([
      '3 promise not awaited',
      '4 promise used as a condition',
      '5 forEach callback returns a promise nobody awaits',
    ]);
  });
});
