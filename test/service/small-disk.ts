/**
 * A real small filesystem for full-disk tests: a tmpfs mounted on a temporary directory (needs root,
 * or CAP_SYS_ADMIN). Where it cannot be mounted, `mountSmallDisk` returns null with the reason, and the
 * test skips itself printing that reason.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, unlinkSync, writeFileSync, openSync, writeSync, closeSync } from "node:fs";
import os from "node:os";
import path from "node:path";

export interface SmallDisk {
  dir: string;
  /** Fills every free byte with a filler file (writes until ENOSPC). */
  fill(): void;
  /** Deletes the filler: the space is back. */
  free(): void;
  unmount(): void;
}

export function mountSmallDisk(sizeKb: number): SmallDisk | { skipped: string } {
  const dir = mkdtempSync(path.join(os.tmpdir(), "scf-small-disk-"));
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", `size=${sizeKb}k,mode=0700`, "tmpfs", dir], { stdio: "pipe" });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    return {
      skipped: `cannot mount a ${sizeKb} KiB tmpfs here (${(err as Error).message.split("\n")[0]}); run the tests as root to include it`,
    };
  }
  const filler = path.join(dir, "filler");
  return {
    dir,
    fill() {
      writeFileSync(filler, "");
      const fd = openSync(filler, "a");
      const block = Buffer.alloc(4096, 1);
      try {
        for (;;) writeSync(fd, block);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "ENOSPC") throw err;
      }
      // Leftover bytes smaller than a block: fill them one by one.
      try {
        for (;;) writeSync(fd, block, 0, 1);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "ENOSPC") throw err;
      } finally {
        closeSync(fd);
      }
    },
    free() {
      unlinkSync(filler);
    },
    unmount() {
      try {
        execFileSync("umount", ["-l", dir], { stdio: "pipe" });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

export function isMounted(d: SmallDisk | { skipped: string }): d is SmallDisk {
  return "dir" in d;
}
