/** The TypeScript compiler, for the benches that run the service's code compiled, as operators do. */
import { execFileSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { REPO_ROOT } from "../../node-service/src/chain/contracts";

/** Compiles the project `tsconfig` (a path) from the repository's root, saying what it compiles. */
export function compileTypeScript(tsconfig: string, what: string): void {
  process.stdout.write(`compiling ${what} (tsc -p ${tsconfig})... `);
  execFileSync(process.execPath, [require.resolve("typescript/bin/tsc"), "-p", tsconfig], { cwd: REPO_ROOT, stdio: "inherit" });
  console.log("done");
}

/**
 * Compiles `script` (a path from the repository's root) and what it imports into dist/, as `npm run
 * build` compiles the service; returns the compiled script's path.
 */
export async function compileIntoDist(script: string, what: string): Promise<string> {
  const configDir = await mkdtemp(path.join(os.tmpdir(), "bench-tsc-"));
  try {
    const tsconfig = path.join(configDir, "tsconfig.json");
    const config = {
      extends: path.join(REPO_ROOT, "tsconfig.build.json"),
      compilerOptions: { rootDir: REPO_ROOT, outDir: path.join(REPO_ROOT, "dist") },
      files: [path.join(REPO_ROOT, script)],
    };
    await writeFile(tsconfig, JSON.stringify(config));
    compileTypeScript(tsconfig, what);
  } finally {
    await rm(configDir, { recursive: true, force: true });
  }
  return path.join(REPO_ROOT, "dist", script.replace(/\.ts$/, ".js"));
}
