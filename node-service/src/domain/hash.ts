import { createHash } from "node:crypto";
import type { Hex } from "viem";

/** sha256 as 0x-hex: what documents are anchored by, so anyone can check a file with `sha256sum`. Text is hashed as UTF-8. */
export function sha256Hex(data: string | Uint8Array): Hex {
  return `0x${createHash("sha256").update(data).digest("hex")}`;
}
