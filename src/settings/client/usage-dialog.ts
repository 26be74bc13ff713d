import type { KeyObject } from "../../management/object.ts";
import type { Api, Granularity } from "./api.ts";
import { openDialog } from "./dialogs.ts";
import { byId, quoted } from "./dom.ts";
import type { KeyTable } from "./key-table.ts";
import { fieldError } from "./messages.ts";
import type { Session } from "./session.ts";
import { usageChart } from "./usage-chart.ts";

/** A key's usage (GET …/{id}/usage) in a dialog: the last 24 hours by the hour, or 30 days by the day. */
export function createUsageDialog(api: Api, table: KeyTable, session: Session) {
  const dialog = byId("usage-dialog", HTMLDialogElement);
  const chart = byId("usage-chart");
  const plot = byId("usage-plot");
  const toggles = [byId("usage-hour", HTMLButtonElement), byId("usage-day", HTMLButtonElement)];
  let target: KeyObject | null = null;
  let request = 0;

  async function show(granularity: Granularity): Promise<void> {
    if (!target) return;
    const mine = ++request;
    for (const t of toggles) t.setAttribute("aria-pressed", String(t.dataset.granularity === granularity));
    chart.setAttribute("aria-busy", "true");
    fieldError("usage-error", "");
    try {
      const usage = await api.usage(target.id, granularity);
      // A slower earlier answer must not replace a newer one.
      if (mine === request) {
        chart.replaceChildren(...usageChart(usage));
        plot.hidden = false;
      }
    } catch (err) {
      if (mine === request) {
        chart.replaceChildren();
        plot.hidden = true;
        session.failed(err, (m) => fieldError("usage-error", `Could not load the usage: ${m}`));
      }
    } finally {
      if (mine === request) chart.setAttribute("aria-busy", "false");
    }
  }

  for (const t of toggles) t.addEventListener("click", () => void show(t.dataset.granularity === "day" ? "day" : "hour"));

  return function openUsage(k: KeyObject): void {
    target = k;
    byId("usage-title").textContent = `Usage of ${quoted(k.name)}`;
    chart.replaceChildren();
    plot.hidden = true;
    openDialog(dialog, table.rowButton(k.id));
    void show("hour");
  };
}
