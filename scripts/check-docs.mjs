// Checks the Markdown of the repository (README.md, CHANGELOG.md, docs/): every relative link
// names a file that exists, and every `#anchor` a heading of that file (GitHub's heading ids).
// Prints each broken link and exits 1 if there is one.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const pages = ["README.md", "CHANGELOG.md", ...readdirSync(path.join(root, "docs")).map((f) => `docs/${f}`)]
  .filter((file) => file.endsWith(".md"));

/** Markdown without its fenced code blocks (links and headings inside code do not count). */
const prose = (markdown) => markdown.replace(/^```[\s\S]*?^```$/gm, "");

/** The ids GitHub gives a page's headings: lower case, punctuation dropped, spaces to hyphens. */
function headingIds(markdown) {
  const ids = new Set();
  const seen = new Map();
  for (const [, title] of prose(markdown).matchAll(/^#{1,6} (.*)$/gm)) {
    const base = title
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, "")
      .replace(/\s/g, "-");
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    ids.add(count === 0 ? base : `${base}-${count}`);
  }
  return ids;
}

const broken = [];
for (const page of pages) {
  const markdown = readFileSync(path.join(root, page), "utf8");
  for (const [, target] of prose(markdown).matchAll(/\]\(([^)\s]+)\)/g)) {
    if (/^[a-z]+:/.test(target)) continue; // https:, mailto:
    const [file, anchor] = target.split("#");
    const resolved = file ? path.join(path.dirname(path.join(root, page)), file) : path.join(root, page);
    if (!existsSync(resolved)) {
      broken.push(`${page}: ${target}: no such file`);
    } else if (anchor !== undefined && resolved.endsWith(".md")) {
      if (!headingIds(readFileSync(resolved, "utf8")).has(anchor)) {
        broken.push(`${page}: ${target}: no such heading`);
      }
    }
  }
}
for (const line of broken) console.error(line);
if (broken.length > 0) process.exit(1);
console.log(`${pages.length} pages, every relative link resolves`);
