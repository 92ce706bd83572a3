/**
 * What /healthz says about the data directory: files whose last write failed (a full disk, an I/O
 * error) until a write to them succeeds again, and incidents found on start (damaged journal records
 * that were quarantined). One per process: the embedded chain's journal and the service's stores
 * report here alike.
 */
import { ApiError } from "../domain/errors";

export interface StorageFailure {
  file: string;
  code: string;
  message: string;
  since: string;
}

export interface StorageIncident {
  file: string;
  message: string;
  at: string;
}

const failures = new Map<string, StorageFailure>();
const incidents: StorageIncident[] = [];

/** errno codes that mean "the disk (or the quota) is full". */
const FULL = new Set(["ENOSPC", "EDQUOT"]);

export const storageHealth = {
  failed(file: string, err: unknown): void {
    const code = (err as NodeJS.ErrnoException | undefined)?.code ?? "EIO";
    const message = err instanceof Error ? err.message : String(err);
    if (!failures.has(file)) failures.set(file, { file, code, message, since: new Date().toISOString() });
  },
  written(file: string): void {
    failures.delete(file);
  },
  incident(file: string, message: string): void {
    incidents.push({ file, message, at: new Date().toISOString() });
  },
  failures(): StorageFailure[] {
    return [...failures.values()];
  },
  incidents(): StorageIncident[] {
    return [...incidents];
  },
  /** Forgets everything (tests that open several services in one process). */
  reset(): void {
    failures.clear();
    incidents.length = 0;
  },
};

/** True when the error is a full disk or quota. */
export function isStorageFull(err: unknown): boolean {
  return FULL.has((err as NodeJS.ErrnoException | undefined)?.code ?? "");
}

/** 507: the request's data could not be stored durably, so nothing was acknowledged. */
export class StorageFullError extends ApiError {
  constructor(what: string, cause: unknown) {
    const code = (cause as NodeJS.ErrnoException | undefined)?.code ?? "EIO";
    super(
      507,
      "insufficient_storage",
      `${what} could not be stored: ${code === "ENOSPC" ? "no space left on the service's disk (ENOSPC)" : code === "EDQUOT" ? "disk quota exceeded (EDQUOT)" : `write failed (${code})`}; nothing was recorded, try again once space is freed`,
      undefined,
      { cause },
    );
  }
}

/** Maps a write failure to the API's error: a full disk is 507, anything else stays as it was. */
export function storageError(what: string, err: unknown): unknown {
  return isStorageFull(err) ? new StorageFullError(what, err) : err;
}
