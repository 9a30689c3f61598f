// Codewerk transcript view (Streamlit components v2, ES module).
//
// Python (ui/components/transcript.py) sends the transcript already cut into pieces: each piece is
// [start, text, codingIds], start being a Python code-point offset. This module only draws them and
// turns what the user selects back into code-point offsets. Every string from the data is set with
// textContent / title / dataset, never parsed as HTML.

const ALPHA = 0.3; // background of a coded piece: light, so the words stay legible
const FOCUS_ALPHA = 0.5; // the coding opened from elsewhere (data.selected)
const SETTLE_MS = 400; // a keyboard selection is reported once it has not changed for this long
const LANE_PX = 6; // margin bars: bars that share a line stand side by side, this far apart

function codePoints(s) {
  // Python counts code points; JavaScript's .length counts UTF-16 units (an emoji is 2).
  let n = 0;
  for (const _ of s) n += 1;
  return n;
}

function rgba(rgb, alpha) {
  return `rgba(${rgb[0]}, ${rgb[1]}, ${rgb[2]}, ${alpha})`;
}

function bands(colours) {
  // One horizontal band per coding, top to bottom, so overlapping codes stay distinguishable.
  const n = colours.length;
  const stops = colours.map((c, i) => `${c} ${(i * 100) / n}% ${((i + 1) * 100) / n}%`);
  return `linear-gradient(to bottom, ${stops.join(", ")})`;
}

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

function build(view, data) {
  const codes = new Map(Object.entries(data.codes || {}));
  const codings = new Map((data.codings || []).map((c) => [String(c.id), c]));
  const selected = data.selected === null || data.selected === undefined ? null : String(data.selected);
  const pieces = []; // every piece element in text order, hidden ones included
  const visible = []; // indices into pieces of those a user can point at
  const ids = new WeakMap(); // piece element -> its coding ids as Python sent them
  const spansOf = new Map(); // coding id -> its visible piece elements, for the margin bars

  const legend = element("div", "cw-legend");
  for (const entry of data.legend || []) {
    const code = codes.get(String(entry.code));
    if (!code) continue;
    const item = element("span", "cw-legend-item");
    const swatch = element("span", "cw-swatch");
    swatch.style.background = rgba(code.rgb, 0.55);
    swatch.style.borderColor = rgba(code.rgb, 1);
    item.append(swatch, element("span", "cw-legend-name", code.name), element("span", "cw-legend-count", entry.count));
    item.title = code.name;
    legend.append(item);
  }

  const body = element("div", "cw-body");
  body.style.height = `${data.height}px`;
  const content = element("div", "cw-content");
  const bars = element("div", "cw-bars");
  body.append(content);

  const addPieces = (parent, rows, hidden) => {
    for (const [start, text, codingIds] of rows) {
      const span = element("span", "cw-piece", text);
      span.dataset.start = String(start);
      span.dataset.end = String(start + codePoints(text));
      if (codingIds.length) {
        const colours = [];
        const tips = [];
        let focused = false;
        for (const id of codingIds) {
          const coding = codings.get(String(id));
          const code = coding && codes.get(String(coding.code));
          if (!code) continue;
          const isFocus = String(id) === selected;
          focused = focused || isFocus;
          colours.push(rgba(code.rgb, isFocus ? FOCUS_ALPHA : ALPHA));
          tips.push(coding.memo ? `${code.name}: ${coding.memo}` : code.name);
          if (isFocus) span.style.textDecorationColor = rgba(code.rgb, 1);
        }
        span.classList.add("cw-coded");
        if (focused) span.classList.add("cw-focus");
        if (colours.length) span.style.backgroundImage = bands(colours);
        span.title = tips.join("\n");
        span.dataset.codings = codingIds.map(String).join(" ");
        ids.set(span, codingIds);
        if (!hidden) {
          for (const id of codingIds) {
            if (!spansOf.has(String(id))) spansOf.set(String(id), []);
            spansOf.get(String(id)).push(span);
          }
        }
      }
      if (!hidden) visible.push(pieces.length);
      pieces.push(span);
      parent.append(span);
    }
  };

  for (const block of data.blocks) {
    if (block.kind === "turn") {
      const turn = element("div", "cw-turn");
      if (block.role) turn.dataset.role = block.role;
      const who = element("div", "cw-who");
      who.append(element("div", "cw-speaker", block.speaker || "–"));
      if (block.time) who.append(element("div", "cw-time", block.time));
      const said = element("div", "cw-said");
      addPieces(said, block.pieces, false);
      turn.append(who, said);
      content.append(turn);
    } else {
      const hidden = block.kind === "hidden";
      const box = element("div", `cw-${block.kind}`);
      addPieces(box, block.pieces, hidden);
      content.append(box);
    }
  }
  content.append(bars);

  view.replaceChildren(legend, body);
  return { body, content, bars, pieces, visible, ids, spansOf, codings, codes, selected };
}

function drawBars(model, onClick) {
  // A bar per coding in the margin left of the text, from its first line to its last. Bars that
  // share a line stand side by side (lanes packed by height, so it is the layout that decides),
  // growing leftwards; overlaps stay readable however many codings share a word.
  const { content, bars, spansOf, codings, codes, selected } = model;
  const base = content.getBoundingClientRect();
  const items = [];
  for (const [id, spans] of spansOf) {
    const coding = codings.get(id);
    const code = coding && codes.get(String(coding.code));
    const firstRects = spans[0].getClientRects();
    const lastRects = spans[spans.length - 1].getClientRects();
    if (!code || !firstRects.length || !lastRects.length) continue;
    const left = spans[0].parentElement.getBoundingClientRect().left - base.left;
    items.push({ id, coding, code, left, top: firstRects[0].top - base.top,
      bottom: lastRects[lastRects.length - 1].bottom - base.top });
  }
  items.sort((a, b) => a.top - b.top || b.bottom - a.bottom);
  const laneBottoms = [];
  const drawn = items.map((item) => {
    let lane = laneBottoms.findIndex((bottom) => bottom <= item.top);
    if (lane === -1) lane = laneBottoms.push(0) - 1;
    laneBottoms[lane] = item.bottom + 2;
    const bar = element("div", item.id === selected ? "cw-bar cw-bar-focus" : "cw-bar");
    bar.style.top = `${item.top}px`;
    bar.style.height = `${item.bottom - item.top}px`;
    bar.style.left = `${item.left - LANE_PX * (lane + 1)}px`;
    bar.style.background = rgba(item.code.rgb, 0.9);
    bar.title = item.coding.memo ? `${item.code.name}: ${item.coding.memo}` : item.code.name;
    bar.addEventListener("click", () => onClick(item.coding));
    return bar;
  });
  bars.replaceChildren(...drawn);
}

function composedRange(shadow) {
  // The selection's boundary points as nodes inside this component's shadow root where possible.
  const selection = document.getSelection();
  if (!selection) return null;
  if (typeof selection.getComposedRanges === "function") {
    let ranges = null;
    try {
      ranges = selection.getComposedRanges({ shadowRoots: [shadow] });
    } catch (e) {
      try {
        ranges = selection.getComposedRanges(shadow); // the older signature (Safari 17)
      } catch (e2) {
        ranges = null;
      }
    }
    if (ranges && ranges.length) return ranges[0];
  }
  if (typeof shadow.getSelection === "function") {
    const own = shadow.getSelection();
    if (own && own.rangeCount) return own.getRangeAt(0);
  }
  return selection.rangeCount ? selection.getRangeAt(0) : null;
}

function compare(node, offset, span) {
  // -1: the point lies before the piece, 0: inside it (edges included), 1: after it.
  const range = document.createRange();
  range.selectNodeContents(span);
  return range.comparePoint(node, offset);
}

function locate(view, model, node, offset, isStart) {
  // A boundary point -> [piece index, DOM point inside that piece], snapping points that lie
  // outside every visible piece (speaker column, margins, outside the component) to the nearest
  // piece edge inside the selection.
  const { pieces, visible } = model;
  if (!visible.length) return null;
  const edge = (i, atEnd) => {
    const text = pieces[i].firstChild;
    return [i, text, atEnd ? text.length : 0];
  };
  if (!view.contains(node)) {
    return isStart ? edge(visible[0], false) : edge(visible[visible.length - 1], true);
  }
  let lo = 0;
  let hi = visible.length;
  if (isStart) {
    // first visible piece the point is before or inside
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (compare(node, offset, pieces[visible[mid]]) <= 0) hi = mid;
      else lo = mid + 1;
    }
    if (lo === visible.length) return null;
    const i = visible[lo];
    return compare(node, offset, pieces[i]) === 0 ? [i, node, offset] : edge(i, false);
  }
  // last visible piece the point is after or inside
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (compare(node, offset, pieces[visible[mid]]) >= 0) lo = mid + 1;
    else hi = mid;
  }
  if (lo === 0) return null;
  const i = visible[lo - 1];
  return compare(node, offset, pieces[i]) === 0 ? [i, node, offset] : edge(i, true);
}

function textBetween(startNode, startOffset, endNode, endOffset) {
  const range = document.createRange();
  range.setStart(startNode, startOffset);
  range.setEnd(endNode, endOffset);
  return range.toString();
}

function offsetOf(model, point) {
  const [i, node, offset] = point;
  const span = model.pieces[i];
  return Number(span.dataset.start) + codePoints(textBetween(span, 0, node, offset));
}

function selectionOf(view, model, range) {
  // {start, end, quote}: offsets counted in code points; the quote read from the DOM independently
  // of that counting, so the server's check (text[start:end] == quote) catches any miscount.
  if (!range) return null;
  const inside = view.contains(range.startContainer) || view.contains(range.endContainer);
  if (!inside || range.collapsed) return null;
  const first = locate(view, model, range.startContainer, range.startOffset, true);
  const last = locate(view, model, range.endContainer, range.endOffset, false);
  if (!first || !last) return null;
  const start = offsetOf(model, first);
  const end = offsetOf(model, last);
  if (end <= start) return null;
  const [fi, fnode, foffset] = first;
  const [li, lnode, loffset] = last;
  let quote;
  if (fi === li) {
    quote = textBetween(fnode, foffset, lnode, loffset);
  } else {
    const head = model.pieces[fi];
    const tail = model.pieces[li];
    quote = textBetween(fnode, foffset, head, head.childNodes.length);
    for (let i = fi + 1; i < li; i += 1) quote += model.pieces[i].textContent;
    quote += textBetween(tail, 0, lnode, loffset);
  }
  return { start, end, quote };
}

function scrollToFocus(body) {
  const target = body.querySelector(".cw-focus");
  if (!target) return;
  const top = target.getBoundingClientRect().top - body.getBoundingClientRect().top;
  body.scrollTop += top - body.clientHeight / 3;
}

export default function (component) {
  const { data, parentElement, setStateValue, setTriggerValue } = component;
  const shadow = parentElement;
  let view = Array.from(shadow.children).find((child) => child.classList && child.classList.contains("cw"));
  if (!view) {
    view = element("div", "cw");
    shadow.append(view);
  }
  // Streamlit re-runs this function when the data changes without calling the previous cleanup,
  // so the state of the view lives on its element and each run first undoes the previous one.
  if (!view.cwState) view.cwState = { signature: null, model: null, lastSent: undefined, scrolledTo: null };
  const state = view.cwState;
  if (state.cleanup) state.cleanup();

  const signature = JSON.stringify(data);
  if (signature !== state.signature) {
    // Rebuilding drops the user's selection, so only rebuild when something to show changed.
    const scrollTop = state.model ? state.model.body.scrollTop : 0;
    state.model = build(view, data);
    state.model.body.scrollTop = scrollTop;
    state.signature = signature;
  }
  const selected = state.model.selected;
  if (selected !== null && selected !== state.scrolledTo) scrollToFocus(state.model.body);
  state.scrolledTo = selected;

  const clickBar = (coding) => setTriggerValue("clicked", { coding_ids: [coding.id], offset: coding.start });
  const redraw = () => drawBars(state.model, clickBar);
  redraw();
  // Line breaks move when the width changes or a web font arrives: draw the bars again.
  const resized = new ResizeObserver(redraw);
  resized.observe(state.model.content);
  if (document.fonts && document.fonts.ready) document.fonts.ready.then(() => state.cleanup && redraw());

  const setCursor = (offset) => {
    if (state.lastCursor === offset) return;
    state.lastCursor = offset;
    setStateValue("cursor", offset === null ? null : { offset });
  };
  const report = (selection) => {
    if (selection) setCursor(null); // a selection replaces the cursor's passage
    const key = selection ? `${selection.start}:${selection.end}` : null;
    if (key === state.lastSent) return;
    state.lastSent = key;
    setStateValue("selection", selection);
  };

  let pointerDown = false;
  let settle = null;
  const onMouseDown = () => {
    pointerDown = true;
  };
  const onMouseUp = (event) => {
    if (!pointerDown) return;
    pointerDown = false;
    const path = event.composedPath();
    if (path.some((node) => node.classList && node.classList.contains("cw-bar"))) return; // a bar's own click
    // after the browser has finished updating the selection for this click
    setTimeout(() => {
      const range = composedRange(shadow);
      if (range && !range.collapsed) {
        const selection = selectionOf(view, state.model, range);
        if (selection) report(selection);
        return;
      }
      const piece = path.find((node) => node.classList && node.classList.contains("cw-piece"));
      const codingIds = piece && state.model.ids.get(piece);
      let offset = piece ? Number(piece.dataset.start) : null;
      if (piece && range && piece.contains(range.startContainer)) {
        offset += codePoints(textBetween(piece, 0, range.startContainer, range.startOffset));
      }
      if (codingIds) {
        setCursor(null);
        setTriggerValue("clicked", { coding_ids: codingIds, offset });
      } else {
        report(null); // a click on uncoded text clears the selection
        setCursor(offset); // the page suggests codes for the passage under the cursor
      }
    }, 0);
  };
  const onSelectionChange = () => {
    if (pointerDown) return;
    clearTimeout(settle);
    settle = setTimeout(() => {
      const selection = selectionOf(view, state.model, composedRange(shadow));
      if (selection) report(selection);
    }, SETTLE_MS);
  };

  view.addEventListener("mousedown", onMouseDown);
  document.addEventListener("mouseup", onMouseUp);
  document.addEventListener("selectionchange", onSelectionChange);
  state.cleanup = () => {
    clearTimeout(settle);
    resized.disconnect();
    view.removeEventListener("mousedown", onMouseDown);
    document.removeEventListener("mouseup", onMouseUp);
    document.removeEventListener("selectionchange", onSelectionChange);
    state.cleanup = null;
  };
  return state.cleanup;
}
