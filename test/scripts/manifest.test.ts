/**
 * The manifest says what runs: every package that the running code imports is in `dependencies`, so
 * `npm ci --omit=dev` installs it. The code that runs: the service (node-service/src/server.ts), the
 * scripts behind `npm start` (with hardhat.config.ts, which `require("hardhat")` loads, and the tools
 * it spawns from node_modules), `npm run deploy` and `npm run verify-evidence`, the command that runs
 * those npm scripts, and the web bundle. Imports are read with TypeScript's parser and followed through
 * relative paths; type-only imports are left out (they are gone at run time). No chain needed.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { expect } from "chai";
import ts from "typescript";
import { REPO_ROOT } from "../../node-service/src/chain/contracts";

interface Manifest {
  scripts: Record<string, string>;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
}

const manifest = JSON.parse(readFileSync(path.join(REPO_ROOT, "package.json"), "utf8")) as Manifest;

/** "@scope/name/sub" -> "@scope/name", "name/sub" -> "name"; null for relative and node: imports. */
function packageOf(specifier: string): string | null {
  if (specifier.startsWith(".") || specifier.startsWith("node:") || path.isAbsolute(specifier)) return null;
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0];
}

function resolveRelative(from: string, specifier: string): string | null {
  const base = path.resolve(path.dirname(from), specifier);
  for (const candidate of [base, `${base}.ts`, `${base}.tsx`, path.join(base, "index.ts")]) {
    if (existsSync(candidate) && /\.(ts|tsx)$/.test(candidate)) return candidate;
  }
  return null;
}

/** The string a module specifier expression holds: "x", `x`, or "x" as string. */
function literal(node: ts.Expression | undefined): string | null {
  while (node && (ts.isAsExpression(node) || ts.isParenthesizedExpression(node))) node = node.expression;
  return node && (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) ? node.text : null;
}

/** Run-time module specifiers of one file: value imports, re-exports, require() and import(). */
function runtimeSpecifiers(file: string): string[] {
  const source = ts.createSourceFile(file, readFileSync(file, "utf8"), ts.ScriptTarget.ES2022, true);
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node)) {
      const clause = node.importClause;
      const typeOnly =
        clause?.isTypeOnly === true ||
        (clause !== undefined &&
          !clause.name &&
          clause.namedBindings !== undefined &&
          ts.isNamedImports(clause.namedBindings) &&
          clause.namedBindings.elements.length > 0 &&
          clause.namedBindings.elements.every((e) => e.isTypeOnly));
      const specifier = literal(node.moduleSpecifier);
      if (!typeOnly && specifier) found.push(specifier);
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && !node.isTypeOnly) {
      const specifier = literal(node.moduleSpecifier);
      if (specifier) found.push(specifier);
    } else if (ts.isCallExpression(node)) {
      const isRequire = ts.isIdentifier(node.expression) && node.expression.text === "require";
      const isRequireResolve =
        ts.isPropertyAccessExpression(node.expression) &&
        ts.isIdentifier(node.expression.expression) &&
        node.expression.expression.text === "require";
      if (isRequire || isRequireResolve || node.expression.kind === ts.SyntaxKind.ImportKeyword) {
        const specifier = literal(node.arguments[0]);
        if (specifier) found.push(specifier);
      }
    } else if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) {
      // A tool started from node_modules by path, as scripts/start.ts starts Vite.
      const spawned = /(?:^|\/)node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(node.text);
      if (spawned) found.push(spawned[1]);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** Packages imported at run time by the files reachable from `entries`, each with one importer. */
function runtimePackages(entries: string[]): Map<string, string> {
  const packages = new Map<string, string>();
  const seen = new Set<string>();
  const queue = entries.map((e) => path.join(REPO_ROOT, e));
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    for (const specifier of runtimeSpecifiers(file)) {
      const name = packageOf(specifier);
      if (name !== null) {
        if (!packages.has(name)) packages.set(name, path.relative(REPO_ROOT, file));
      } else if (specifier.startsWith(".")) {
        const next = resolveRelative(file, specifier);
        if (next) queue.push(next);
        else if (!/\.(json|css)$/.test(specifier)) throw new Error(`${path.relative(REPO_ROOT, file)}: cannot resolve ${specifier}`);
      }
    }
  }
  return packages;
}

/** The package that provides the command an npm script runs ("ts-node --transpile-only x" -> ts-node). */
function commandPackage(script: string): string {
  // `exec cmd …`: the shell replaces itself by cmd (so npm's signals reach it); cmd is the command.
  const command = script.replace(/^exec\s+/, "").split(" ")[0];
  const owner = [...Object.keys(manifest.dependencies), ...Object.keys(manifest.devDependencies)].find((name) => {
    const bin = (
      JSON.parse(readFileSync(path.join(REPO_ROOT, "node_modules", name, "package.json"), "utf8")) as {
        bin?: string | Record<string, string>;
      }
    ).bin;
    return typeof bin === "string" ? name === command : bin !== undefined && command in bin;
  });
  if (!owner) throw new Error(`no package in the manifest provides the command "${command}"`);
  return owner;
}

describe("the manifest says what runs", function () {
  const runs: Record<string, string[]> = {
    "the service": ["node-service/src/server.ts"],
    "npm start": ["scripts/start.ts", "hardhat.config.ts"],
    "npm run deploy": ["scripts/deploy.ts"],
    "npm run verify-evidence": ["scripts/verify-evidence.ts"],
    "the web bundle": ["web/src/main.tsx"],
  };

  for (const [what, entries] of Object.entries(runs)) {
    it(`lists in dependencies every package that ${what} imports at run time`, function () {
      const packages = runtimePackages(entries);
      expect(packages.size, "no package found: the import scan is broken").to.be.greaterThan(0);
      const missing = [...packages]
        .filter(([name]) => !(name in manifest.dependencies))
        .map(([name, file]) => `${name} (imported by ${file})`);
      expect(missing, `${what}: in devDependencies or missing`).to.deep.equal([]);
    });
  }

  it("lists in dependencies the command that runs npm start, deploy and verify-evidence", function () {
    for (const script of ["start", "deploy", "verify-evidence"]) {
      expect(manifest.dependencies, `npm run ${script}: ${manifest.scripts[script]}`).to.have.property(
        commandPackage(manifest.scripts[script]),
      );
    }
  });

  it("finds a package imported at run time, and skips one imported for its types only", function () {
    const service = runtimePackages(["node-service/src/server.ts"]);
    expect(service.has("viem")).to.equal(true);
    expect(service.has("express")).to.equal(true);
    expect(runtimeSpecifiers(path.join(REPO_ROOT, "node-service/src/documents/sniff.ts"))).to.not.include("file-type");
    const start = runtimePackages(["scripts/start.ts"]);
    expect(start.get("vite"), "vite, started from node_modules by path").to.equal("scripts/start.ts");
  });
});
