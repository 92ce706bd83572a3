/** The TypeScript compiler, for the benches that run the service's code compiled, as operators do. */
import { execFileSync } from "node:child_process";
import { REPO_ROOT } from "../../node-service/src/chain/contracts";

/** Compiles the project `tsconfig` (a path) from the repository's root, saying what it compiles. */
export function compileTypeScript(tsconfig: string, what: string): void {
  process.stdout.write(`compiling ${what} (tsc -p ${tsconfig})... `);
  execFileSync(process.execPath, [require.resolve("typescript/bin/tsc"), "-p", tsconfig], { cwd: REPO_ROOT, stdio: "inherit" });
  console.log("done");
}
