/**
 * What a file really is, decided by its bytes (never by its name or the client's Content-Type):
 * PDF, PNG and JPEG by magic numbers (file-type), plain text and JSON by a strict UTF-8 decode.
 */
import type * as FileType from "file-type";
import { ApiError, type ErrorText } from "../domain/errors";

/** The media types the document store accepts. */
export const ALLOWED_MIME = ["application/pdf", "image/png", "image/jpeg", "application/json", "text/plain"] as const;
export type AllowedMime = (typeof ALLOWED_MIME)[number];

export class UnsupportedMediaTypeError extends ApiError {
  constructor(message: string, text?: ErrorText) {
    super(415, "unsupported_media_type", message, "file", { text });
  }
}

// file-type 19 is ESM-only and exports only an "import" condition, so require() cannot load it;
// a real dynamic import (kept out of TypeScript's CommonJS rewrite) can.
const importEsm = new Function("specifier", "return import(specifier)") as (s: string) => Promise<unknown>;
let fileTypeModule: Promise<typeof FileType> | undefined;
function fileType(): Promise<typeof FileType> {
  fileTypeModule ??= importEsm("file-type") as Promise<typeof FileType>;
  return fileTypeModule;
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/** Returns the sniffed media type, or throws UnsupportedMediaTypeError saying what was found. */
export async function sniffMime(bytes: Uint8Array): Promise<AllowedMime> {
  if (bytes.length === 0) throw new UnsupportedMediaTypeError("the file is empty", { textCode: "file_empty", params: {} });
  const detected = await (await fileType()).fileTypeFromBuffer(bytes);
  if (detected) {
    if ((ALLOWED_MIME as readonly string[]).includes(detected.mime)) return detected.mime as AllowedMime;
    throw new UnsupportedMediaTypeError(
      `files of type ${detected.mime} (.${detected.ext}) are not accepted; allowed: PDF, PNG, JPEG, plain text, JSON`,
      { textCode: "file_type_refused", params: { mime: detected.mime, ext: detected.ext } },
    );
  }
  let text: string;
  try {
    text = strictUtf8.decode(bytes);
  } catch {
    throw new UnsupportedMediaTypeError("unrecognised binary content; allowed: PDF, PNG, JPEG, plain text (UTF-8), JSON", {
      textCode: "file_binary_unrecognised",
      params: {},
    });
  }
  // Control characters other than tab, newline, carriage return and form feed mean binary data.
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0008\u000b\u000e-\u001f\u007f]/.test(text)) {
    throw new UnsupportedMediaTypeError("the text contains control characters; allowed: PDF, PNG, JPEG, plain text (UTF-8), JSON", {
      textCode: "file_control_characters",
      params: {},
    });
  }
  const trimmed = text.trim();
  if (trimmed.startsWith("{") || trimmed.startsWith("[")) {
    try {
      JSON.parse(trimmed);
      return "application/json";
    } catch {
      return "text/plain";
    }
  }
  return "text/plain";
}
