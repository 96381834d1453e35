// The linked sub-schema as an SVG picture: one box per linked table listing its selected columns, in layers
// along the join paths (breadth first from the first path's start), join-path edges drawn between boxes.

import { s, splitRef } from "./dom.js";

const CHAR = 7.4; // width of a character at the 12px monospace the boxes use
const LINE = 18;
const HEAD = 26;
const GAP_X = 70;
const GAP_Y = 24;
const PAD = 12;

export function joinEdges(paths) {
  const seen = new Set();
  const edges = [];
  for (const path of paths || []) {
    for (let i = 0; i + 1 < path.length; i++) {
      const [a, b] = [path[i], path[i + 1]];
      const key = [a, b].sort().join("\u0000");
      if (a !== b && !seen.has(key)) {
        seen.add(key);
        edges.push([a, b]);
      }
    }
  }
  return edges;
}

export function linkGraph({ tables, columns, paths }) {
  const names = [...new Set([...(tables || []), ...(paths || []).flat()])];
  const selected = new Map(names.map((t) => [t, []]));
  for (const ref of columns || []) {
    const [t, c] = splitRef(ref);
    if (!selected.has(t)) {
      selected.set(t, []);
      names.push(t);
    }
    selected.get(t).push(c);
  }
  const edges = joinEdges(paths);
  const neighbours = new Map(names.map((t) => [t, []]));
  for (const [a, b] of edges) {
    neighbours.get(a).push(b);
    neighbours.get(b).push(a);
  }
  // Layers: breadth first from each unplaced table, in the order linking gave them.
  const layer = new Map();
  for (const start of names) {
    if (layer.has(start)) continue;
    layer.set(start, 0);
    const queue = [start];
    while (queue.length) {
      const t = queue.shift();
      for (const n of neighbours.get(t)) {
        if (!layer.has(n)) {
          layer.set(n, layer.get(t) + 1);
          queue.push(n);
        }
      }
    }
  }
  const layers = [];
  for (const t of names) (layers[layer.get(t)] ||= []).push(t);
  const box = new Map();
  let x = PAD;
  let height = 0;
  for (const members of layers) {
    const width = Math.max(...members.map((t) => Math.max(t.length, ...selected.get(t).map((c) => c.length + 2)) * CHAR + 20), 120);
    let y = PAD;
    for (const t of members) {
      const h = HEAD + Math.max(selected.get(t).length, 1) * LINE + 6;
      box.set(t, { x, y, w: width, h });
      y += h + GAP_Y;
    }
    height = Math.max(height, y);
    x += width + GAP_X;
  }
  // A join inside one layer curves out to the right of its boxes: leave room for it.
  const inLayer = edges.some(([a, b]) => box.get(a).x === box.get(b).x);
  const width = x - GAP_X + PAD + (inLayer ? 50 : 0);
  const description = `Tables: ${names.join(", ")}. Joins: ${edges.map(([a, b]) => `${a} to ${b}`).join(", ") || "none"}.`;
  const svg = s(
    "svg",
    { class: "link-graph", role: "img", viewBox: `0 0 ${Math.max(width, 200)} ${Math.max(height, 60)}`, width: Math.max(width, 200), height: Math.max(height, 60), "aria-labelledby": "graph-title graph-desc" },
    s("title", { id: "graph-title" }, "Linked sub-schema"),
    s("desc", { id: "graph-desc" }, description),
  );
  for (const [a, b] of edges) {
    const [p, q] = box.get(a).x <= box.get(b).x ? [box.get(a), box.get(b)] : [box.get(b), box.get(a)];
    const sameLayer = p.x === q.x;
    const x1 = p.x + p.w;
    const y1 = p.y + HEAD / 2;
    const x2 = sameLayer ? q.x + q.w : q.x;
    const y2 = q.y + HEAD / 2;
    const bend = sameLayer ? x1 + 40 : (x1 + x2) / 2;
    svg.append(s("path", { class: "edge join", "data-edge": `${a}|${b}`, d: `M${x1},${y1} C${bend},${y1} ${bend},${y2} ${x2},${y2}` }));
  }
  for (const t of names) {
    const { x: bx, y: by, w, h } = box.get(t);
    const group = s("g", { class: "table-node", "data-table": t });
    group.append(
      s("rect", { x: bx, y: by, width: w, height: h, rx: 6 }),
      s("rect", { class: "head", x: bx, y: by, width: w, height: HEAD, rx: 6 }),
      s("text", { class: "table-name", x: bx + 10, y: by + 17 }, t),
    );
    selected.get(t).forEach((c, i) => group.append(s("text", { class: "column-name", x: bx + 10, y: by + HEAD + 14 + i * LINE }, `• ${c}`)));
    if (!selected.get(t).length) group.append(s("text", { class: "column-name muted", x: bx + 10, y: by + HEAD + 14 }, "(join only)"));
    svg.append(group);
  }
  return svg;
}
