import { z } from "zod";
import { base64UrlOfText, textOfBase64Url } from "../crypto/encoding.ts";
import { GatewayError } from "../errors.ts";
import type { PageCursor } from "../storage/records.ts";

/** Opaque to clients: base64url JSON of the last row's sort key. */
const CursorSchema = z.strictObject({ created_at: z.iso.datetime(), id: z.string().max(64) });

export function encodeCursor(c: PageCursor): string {
  return base64UrlOfText(JSON.stringify({ created_at: c.created_at, id: c.id }));
}

export function decodeCursor(text: string): PageCursor {
  try {
    const json: unknown = JSON.parse(textOfBase64Url(text));
    return CursorSchema.parse(json);
  } catch {
    throw new GatewayError("invalid_request", "cursor is not valid; pass next_cursor from the previous page");
  }
}
