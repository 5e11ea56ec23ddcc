#!/usr/bin/env node
/**
 * Builds the package from src/ with the TypeScript compiler of the inflow checkout (the root's
 * `typescript`): dist/esm (ES modules) and dist/cjs (CommonJS), each with its .d.ts declarations
 * and a package.json naming its module type, so `import` and `require` each get JavaScript and
 * types of their own kind (see "exports" in ../package.json).
 *
 * `npm pack` runs it (prepack), then runs it with `--clean` (postpack), which only removes dist/
 * again: the repository's eslint and tsconfig would take built files left there for its own.
 *
 * src/ imports its own files without an extension (`./client`), as the monorepo's CommonJS code
 * and jest resolve them. Node's ES module loader needs the file name, so the ESM build rewrites
 * each relative specifier to the file it names (`./client.js`), in the JavaScript and in the
 * declarations alike; one that names no file of src/ fails the build.
 */
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const srcDir = path.join(root, 'src');
const distDir = path.join(root, 'dist');

let ts;
try {
  ts = createRequire(import.meta.url)('typescript');
} catch {
  console.error(`@inflow/sdk: building needs the TypeScript compiler of the inflow checkout (${path.dirname(root)}): run \`npm install\` there first.`);
  process.exit(1);
}

const sources = readdirSync(srcDir)
  .filter((name) => name.endsWith('.ts') && !name.endsWith('.d.ts'))
  .map((name) => path.join(srcDir, name));

const common = {
  target: ts.ScriptTarget.ES2022,
  lib: ['lib.es2023.d.ts'],
  types: ['node'],
  strict: true,
  noUncheckedIndexedAccess: true,
  esModuleInterop: true,
  skipLibCheck: true,
  forceConsistentCasingInFileNames: true,
  declaration: true,
  sourceMap: true,
  declarationMap: true,
  noEmitOnError: true,
  rootDir: srcDir,
  newLine: ts.NewLineKind.LineFeed,
};

/** `./client` → `./client.js` (or `./dir/index.js`), for Node's ES module loader. */
function withExtension(specifier, fromFile) {
  if (!specifier.startsWith('./') && !specifier.startsWith('../')) return specifier;
  if (/\.(m|c)?js$/.test(specifier)) return specifier;
  const target = path.resolve(path.dirname(fromFile), specifier);
  if (existsSync(`${target}.ts`)) return `${specifier}.js`;
  if (existsSync(path.join(target, 'index.ts'))) return `${specifier}/index.js`;
  throw new Error(`${path.relative(root, fromFile)}: '${specifier}' names no file of src/`);
}

/** A transformer giving every relative import, export and import type its file name. */
function rewriteSpecifiers(context) {
  const { factory } = context;
  return (sourceFile) => {
    const fromFile = sourceFile.fileName;
    const literal = (node) => factory.createStringLiteral(withExtension(node.text, fromFile));
    const visit = (original) => {
      const node = ts.visitEachChild(original, visit, context);
      if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
        return factory.updateImportDeclaration(node, node.modifiers, node.importClause, literal(node.moduleSpecifier), node.attributes);
      }
      if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
        return factory.updateExportDeclaration(node, node.modifiers, node.isTypeOnly, node.exportClause, literal(node.moduleSpecifier), node.attributes);
      }
      if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
        const argument = factory.updateLiteralTypeNode(node.argument, literal(node.argument.literal));
        return factory.updateImportTypeNode(node, argument, node.attributes, node.qualifier, node.typeArguments, node.isTypeOf);
      }
      if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword && node.arguments[0] && ts.isStringLiteral(node.arguments[0])) {
        return factory.updateCallExpression(node, node.expression, node.typeArguments, [literal(node.arguments[0]), ...node.arguments.slice(1)]);
      }
      return node;
    };
    return ts.visitNode(sourceFile, visit);
  };
}

function compile(name, options, transformers) {
  const outDir = path.join(distDir, name);
  const program = ts.createProgram(sources, { ...common, ...options, outDir });
  const emitted = program.emit(undefined, undefined, undefined, false, transformers);
  const diagnostics = [...ts.getPreEmitDiagnostics(program), ...emitted.diagnostics];
  if (diagnostics.length > 0) {
    const host = { getCanonicalFileName: (file) => file, getCurrentDirectory: () => root, getNewLine: () => '\n' };
    console.error(ts.formatDiagnosticsWithColorAndContext(diagnostics, host));
    process.exit(1);
  }
  // The nearest package.json decides how Node (and TypeScript) read a .js or .d.ts file.
  mkdirSync(outDir, { recursive: true });
  writeFileSync(path.join(outDir, 'package.json'), `${JSON.stringify({ type: name === 'esm' ? 'module' : 'commonjs' })}\n`);
}

rmSync(distDir, { recursive: true, force: true });
if (process.argv.includes('--clean')) process.exit(0);
// src/ is CommonJS to TypeScript (../package.json has no "type"), as the root tsconfig reads it.
compile('cjs', { module: ts.ModuleKind.Node16, moduleResolution: ts.ModuleResolutionKind.Node16 });
compile(
  'esm',
  { module: ts.ModuleKind.ES2022, moduleResolution: ts.ModuleResolutionKind.Bundler },
  { after: [rewriteSpecifiers], afterDeclarations: [rewriteSpecifiers] },
);
