import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { PROJECT_DIR } from "../../scripts/lib/local-state.ts";

/**
 * The README and docs/ as a reader follows them: every relative link leads to
 * a file that exists and, with a #fragment, to a heading (or explicit anchor)
 * in it; the README stays a page long.
 */

const README_MAX_BYTES = 12 * 1024;

const DOCS = [
  join(PROJECT_DIR, "README.md"),
  ...readdirSync(join(PROJECT_DIR, "docs"))
    .filter((f) => f.endsWith(".md"))
    .map((f) => join(PROJECT_DIR, "docs", f)),
];

/** The text outside fenced code blocks and inline code, where links and headings are. */
function prose(markdown: string): string {
  return markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, "").replace(/`[^`\n]*`/g, (code) => " ".repeat(code.length));
}

/** GitHub's heading anchor: lower case, punctuation dropped (but `-` and `_`), spaces to `-`; repeats get -1, -2, … */
function anchorsOf(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  const text = markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, "");
  for (const [, heading] of text.matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const plain = heading!.replace(/\[([^\]]*)\]\([^)]*\)/g, "$1").replace(/`/g, "");
    const base = plain
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\p{M}\s_-]/gu, "")
      .trim()
      .replace(/\s/g, "-");
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  for (const [, id] of markdown.matchAll(/<a\s+(?:id|name)="([^"]+)"/g)) anchors.add(id!);
  return anchors;
}

interface Link {
  from: string;
  target: string;
}

function linksOf(file: string): Link[] {
  const text = prose(readFileSync(file, "utf8"));
  const links: Link[] = [];
  for (const [, target] of text.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) links.push({ from: file, target: target! });
  for (const [, target] of text.matchAll(/^\s*\[[^\]]+\]:\s*(\S+)/gm)) links.push({ from: file, target: target! });
  return links;
}

/** Why a link is broken, or null when it leads somewhere. */
function brokenReason({ from, target }: Link): string | null {
  if (/^[a-z][a-z0-9+.-]*:/i.test(target)) return null; // https:, mailto:: not ours to check offline
  const [path, fragment] = target.split("#", 2) as [string, string | undefined];
  const file = path === "" ? from : resolve(dirname(from), decodeURIComponent(path));
  if (!file.startsWith(PROJECT_DIR)) return "points outside the repository";
  if (!existsSync(file)) return "no such file";
  if (fragment === undefined || fragment === "") return null;
  if (statSync(file).isDirectory() || !file.endsWith(".md")) return "a #fragment on a file that is not Markdown";
  return anchorsOf(readFileSync(file, "utf8")).has(decodeURIComponent(fragment)) ? null : `no heading #${fragment}`;
}

describe("README.md and docs/", () => {
  it(`README.md is at most ${README_MAX_BYTES} bytes`, () => {
    expect(statSync(join(PROJECT_DIR, "README.md")).size).toBeLessThanOrEqual(README_MAX_BYTES);
  });

  it("every relative link leads to an existing file and heading", () => {
    const links = DOCS.flatMap(linksOf);
    expect(links.length).toBeGreaterThan(20);
    const broken = links.flatMap((l) => {
      const why = brokenReason(l);
      return why === null ? [] : [`${relative(PROJECT_DIR, l.from)}: ${l.target} (${why})`];
    });
    expect(broken).toEqual([]);
  });

  it("the checker is not a rubber stamp: it finds a missing file and a missing heading", () => {
    const readme = join(PROJECT_DIR, "README.md");
    expect(brokenReason({ from: readme, target: "docs/no-such-page.md" })).toBe("no such file");
    expect(brokenReason({ from: readme, target: "docs/design.md#no-such-section" })).toBe("no heading #no-such-section");
    expect(brokenReason({ from: readme, target: "docs/design.md#8-managing-keys" })).toBeNull();
    expect(brokenReason({ from: readme, target: "../shared/DESIGN.md" })).toBe("points outside the repository");
  });

  it("docs/design.md keeps its numbered sections, the ones code comments cite", () => {
    const anchors = anchorsOf(readFileSync(join(PROJECT_DIR, "docs", "design.md"), "utf8"));
    for (const n of ["1", "2", "3", "4", "5", "6", "7", "8", "8b", "9", "10", "11"]) {
      expect(
        [...anchors].some((a) => a.startsWith(`${n}-`)),
        `§${n}`,
      ).toBe(true);
    }
  });
});
