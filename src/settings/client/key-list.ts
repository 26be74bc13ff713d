import type { Api } from "./api.ts";
import { byId } from "./dom.ts";
import type { KeyTable } from "./key-table.ts";
import { showAlert } from "./messages.ts";

/** Pages through GET /api/v1/api-keys into the table, following next_cursor on "Load more". */
const PAGE_SIZE = 50;

export function createKeyList(api: Api, table: KeyTable, failed: (err: unknown, show: (m: string) => void) => void) {
  let nextCursor: string | null = null;
  const more = byId("load-more", HTMLButtonElement);

  async function load(reset: boolean): Promise<void> {
    if (reset) {
      table.clear();
      nextCursor = null;
    }
    more.disabled = true;
    try {
      const page = await api.list(PAGE_SIZE, nextCursor);
      for (const k of page.items) table.upsert(k, false);
      nextCursor = page.next_cursor;
      more.hidden = !page.next_cursor;
      table.showEmpty();
    } catch (err) {
      failed(err, (m) => showAlert(`Could not load the keys: ${m}`));
    } finally {
      more.disabled = false;
      byId("keys-table").setAttribute("aria-busy", "false");
    }
  }

  more.addEventListener("click", () => void load(false));
  return { load, forget: () => (nextCursor = null) };
}
