import type { Usage } from "./api.ts";
import { USAGE_CHART } from "../shared/markup.ts";
import { el } from "./dom.ts";

/**
 * A key's usage as a small stacked bar chart: inline SVG built with the DOM
 * (the CSP allows no inline style attribute; colours come from classes in
 * settings.css), a legend with the totals, and the numbers again as a
 * visually hidden table for screen readers.
 */
export const STATUS_CLASSES = ["2xx", "3xx", "4xx", "5xx"] as const;
type StatusClass = (typeof STATUS_CLASSES)[number];
type Bucket = Usage["buckets"][number];

const { width: WIDTH, height: HEIGHT, axis: AXIS } = USAGE_CHART;

/** The page's own <svg> (src/settings/page.ts): its namespace is the one to create the bars in. */
const chartSvg = (): SVGSVGElement => {
  const node = document.getElementById("usage-svg");
  if (!(node instanceof SVGSVGElement)) throw new Error("settings page: #usage-svg is missing");
  return node;
};

function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number>, text?: string): SVGElementTagNameMap[K] {
  const node = document.createElementNS(chartSvg().namespaceURI, tag) as SVGElementTagNameMap[K];
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

const bucketTotal = (b: Bucket): number => STATUS_CLASSES.reduce((sum, c) => sum + b[c], 0);

export function totals(usage: Usage): Record<StatusClass | "all", number> {
  const sums = { "2xx": 0, "3xx": 0, "4xx": 0, "5xx": 0, all: 0 };
  for (const b of usage.buckets) {
    for (const c of STATUS_CLASSES) sums[c] += b[c];
    sums.all += bucketTotal(b);
  }
  return sums;
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"] as const;

/**
 * A bucket's start in UTC, as the API counts it ("Dec 4, 14:00 UTC" or
 * "Dec 4"): never converted into the reader's zone, where a west-of-UTC
 * reader would see a day's requests under the day before.
 */
export function bucketLabel(start: string, granularity: Usage["granularity"]): string {
  const d = new Date(start);
  const day = `${MONTHS[d.getUTCMonth()]} ${d.getUTCDate()}`;
  return granularity === "hour" ? `${day}, ${String(d.getUTCHours()).padStart(2, "0")}:00 UTC` : day;
}

const n = (x: number): string => x.toLocaleString("en-US");

function summary(usage: Usage, sums: ReturnType<typeof totals>): string {
  const period = usage.granularity === "hour" ? `the last ${usage.buckets.length} hours` : `the last ${usage.buckets.length} days`;
  const parts = STATUS_CLASSES.map((c) => `${n(sums[c])} ${c}`).join(", ");
  return `${n(sums.all)} ${sums.all === 1 ? "request" : "requests"} in ${period}: ${parts}.`;
}

/** Redraws the page's chart: its accessible name, one stacked bar per bucket, a few time labels. */
function drawBars(usage: Usage): void {
  const sums = totals(usage);
  const chart = chartSvg();
  const title = chart.querySelector("title") ?? svg("title", { id: "usage-svg-title" });
  title.textContent = summary(usage, sums);
  chart.replaceChildren(title);
  const count = Math.max(usage.buckets.length, 1);
  const slot = WIDTH / count;
  const gap = Math.min(2, slot * 0.2);
  const max = Math.max(1, ...usage.buckets.map(bucketTotal));
  chart.append(svg("line", { x1: 0, x2: WIDTH, y1: HEIGHT + 0.5, y2: HEIGHT + 0.5, class: "usage-axis" }));
  usage.buckets.forEach((b, i) => {
    const group = svg("g", {});
    group.append(
      svg("title", {}, `${bucketLabel(b.start, usage.granularity)}: ${STATUS_CLASSES.map((c) => `${n(b[c])} ${c}`).join(", ")}`),
    );
    // A full-height transparent rect, so a hover anywhere in the slot shows the bucket's numbers.
    group.append(svg("rect", { x: i * slot, y: 0, width: slot, height: HEIGHT, class: "usage-hit" }));
    let y = HEIGHT;
    for (const c of STATUS_CLASSES) {
      if (b[c] === 0) continue;
      const h = (b[c] / max) * (HEIGHT - 4);
      y -= h;
      group.append(svg("rect", { x: i * slot + gap / 2, y, width: slot - gap, height: h, class: `usage-${c}` }));
    }
    chart.append(group);
  });
  // Labels under the first, middle and last bars.
  const ticks = [...new Set([0, Math.floor((count - 1) / 2), count - 1])];
  for (const i of ticks) {
    const b = usage.buckets[i];
    if (!b) continue;
    const anchor = i === 0 ? "start" : i === count - 1 ? "end" : "middle";
    const x = i === 0 ? 0 : i === count - 1 ? WIDTH : (i + 0.5) * slot;
    chart.append(
      svg("text", { x, y: HEIGHT + AXIS - 4, "text-anchor": anchor, class: "usage-tick" }, bucketLabel(b.start, usage.granularity)),
    );
  }
  chart.append(svg("text", { x: 4, y: 2, "dominant-baseline": "hanging", class: "usage-tick" }, `max ${n(max)}`));
  if (usage.granularity === "day")
    chart.append(
      svg("text", { x: WIDTH - 4, y: 2, "dominant-baseline": "hanging", "text-anchor": "end", class: "usage-tick" }, "days in UTC"),
    );
}

function legend(usage: Usage): HTMLElement {
  const sums = totals(usage);
  const items = STATUS_CLASSES.map((c) =>
    el("li", { "data-class": c }, [
      el("span", { className: `swatch swatch-${c}`, "aria-hidden": "true" }),
      `${c}: `,
      el("strong", { className: "usage-count", text: n(sums[c]) }),
    ]),
  );
  items.unshift(
    el("li", { "data-class": "all" }, ["Total: ", el("strong", { className: "usage-count", id: "usage-total", text: n(sums.all) })]),
  );
  return el("ul", { className: "usage-legend", id: "usage-totals" }, items);
}

/** The numbers themselves, for screen readers (and anyone who copies them). */
function numbers(usage: Usage): HTMLElement {
  const head = el("tr", {}, [
    el("th", { scope: "col", text: usage.granularity === "hour" ? "Hour starting (UTC)" : "Day (UTC)" }),
    ...STATUS_CLASSES.map((c) => el("th", { scope: "col", text: c })),
  ]);
  const rows = usage.buckets.map((b) =>
    el("tr", {}, [
      el("th", { scope: "row", text: bucketLabel(b.start, usage.granularity) }),
      ...STATUS_CLASSES.map((c) => el("td", { text: String(b[c]) })),
    ]),
  );
  return el("table", { className: "visually-hidden" }, [
    el("caption", { text: "Requests per period and status class" }),
    el("thead", {}, [head]),
    el("tbody", {}, rows),
  ]);
}

/** Draws the bars in the page's <svg> and returns the legend (with totals) and the hidden table, for #usage-chart. */
export function usageChart(usage: Usage): HTMLElement[] {
  drawBars(usage);
  const parts: HTMLElement[] = [legend(usage), numbers(usage)];
  if (totals(usage).all === 0) parts.splice(1, 0, el("p", { className: "empty", text: "No requests in this period." }));
  return parts;
}
