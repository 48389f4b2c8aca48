// Boxes and rotated boxes: drag on the image to draw, click to select, drag the selected box's
// body to move it, its eight handles to resize it and (rotated boxes) the stalk to turn it.
import { clamp, fromLocal, toLocal } from "./geometry.js";
import { drag } from "./gestures.js";
import { fitsImage, regionContains, translated } from "./regions.js";
import { HANDLE_SIZE, drawHandles, drawSketch } from "./render.js";

const ROTATE_STALK = 28; // stage pixels between the top edge and the rotation handle
const HANDLES = { nw: [0, 0], n: [0.5, 0], ne: [1, 0], e: [1, 0.5], se: [1, 1], s: [0.5, 1], sw: [0, 1], w: [0, 0.5] };
const CURSORS = { nw: "nwse-resize", se: "nwse-resize", ne: "nesw-resize", sw: "nesw-resize",
  n: "ns-resize", s: "ns-resize", e: "ew-resize", w: "ew-resize", rotate: "grab" };

export class BoxTool {
  constructor(host) {
    this.host = host;
    this.rotated = host.type === "rotated_boxes";
    this.sketch = null; // the rectangle being drawn, in image pixels
  }

  hint() {
    return this.rotated
      ? "Drag to draw a box; drag the round handle above a selected box to rotate it (Shift snaps to 15°)."
      : "Drag to draw a box; click a box to select it, drag it to move, drag its handles to resize.";
  }

  handlePoints(box) {
    const view = this.host.view;
    const points = Object.entries(HANDLES).map(([name, [u, v]]) => {
      const p = fromLocal(box, { x: u * box.width, y: v * box.height });
      return { name, ...view.toStage(p.x, p.y) };
    });
    if (this.rotated) {
      const p = fromLocal(box, { x: box.width / 2, y: -ROTATE_STALK / view.scale });
      points.push({ name: "rotate", ...view.toStage(p.x, p.y) });
    }
    return points;
  }

  handleAt(box, p) {
    return this.handlePoints(box)
      .find((h) => Math.hypot(h.x - p.sx, h.y - p.sy) <= HANDLE_SIZE)?.name;
  }

  hover(p) {
    const box = this.host.editable;
    if (!box) return "crosshair";
    const handle = this.handleAt(box, p);
    if (handle) return CURSORS[handle];
    return regionContains(this.host.type, box, p, 0) ? "move" : "crosshair";
  }

  press(p, event) {
    if (event.button !== 0) return null;
    const box = this.host.editable;
    if (box) {
      const handle = this.handleAt(box, p);
      if (handle === "rotate") return this.rotateGesture(box, p);
      if (handle) return this.resizeGesture(box, handle, p);
      if (regionContains(this.host.type, box, p, 0)) return this.moveGesture(box, p);
    }
    return this.drawGesture(p);
  }

  drawGesture(start) {
    const host = this.host;
    const corner = (p) => ({ x: clamp(p.x, 0, host.imageWidth), y: clamp(p.y, 0, host.imageHeight) });
    const a = corner(start);
    return drag(start, {
      move: (p) => {
        const b = corner(p);
        this.sketch = { x: Math.min(a.x, b.x), y: Math.min(a.y, b.y),
          width: Math.abs(b.x - a.x), height: Math.abs(b.y - a.y) };
        host.redraw();
      },
      drop: () => {
        const box = this.sketch;
        this.sketch = null;
        if (box && box.width >= 1 && box.height >= 1) {
          const before = host.snapshot();
          host.addRegion({ label: host.activeLabel, ...box, ...(this.rotated ? { rotation: 0 } : {}) });
          host.commit(before);
        } else {
          host.redraw();
        }
      },
      click: (p) => host.selectAt(p),
    });
  }

  // Gestures that change the selected box live and record one undo step when released.
  // A click that does not move selects what is under the pointer, except on a handle.
  editGesture(start, update, click = (p) => this.host.selectAt(p)) {
    const host = this.host;
    const before = host.snapshot();
    let changed = false;
    return drag(start, {
      move: (p, event) => {
        const next = update(p, event);
        if (next && fitsImage(host.type, next, host.imageWidth, host.imageHeight)) {
          host.replaceRegion(next);
          changed = true;
        }
      },
      drop: () => changed && host.commit(before),
      click,
    });
  }

  moveGesture(box, start) {
    const { type, imageWidth, imageHeight } = this.host;
    return this.editGesture(start, (p) =>
      translated(type, box, p.x - start.x, p.y - start.y, imageWidth, imageHeight));
  }

  // Resizing works in the box's own frame: the dragged handle's edges follow the pointer and
  // the opposite edges stay put, whatever the rotation.
  resizeGesture(box, handle, start) {
    const { imageWidth, imageHeight } = this.host;
    return this.editGesture(start, (p) => {
      const inside = this.rotated ? p : { x: clamp(p.x, 0, imageWidth), y: clamp(p.y, 0, imageHeight) };
      const q = toLocal(box, inside);
      let [left, top, right, bottom] = [0, 0, box.width, box.height];
      if (handle.includes("w")) left = q.x;
      if (handle.includes("e")) right = q.x;
      if (handle.includes("n")) top = q.y;
      if (handle.includes("s")) bottom = q.y;
      const width = Math.abs(right - left);
      const height = Math.abs(bottom - top);
      if (width < 1 || height < 1) return null;
      const origin = fromLocal(box, { x: Math.min(left, right), y: Math.min(top, bottom) });
      return { ...box, x: origin.x, y: origin.y, width, height };
    }, () => {});
  }

  // Turns the box about its centre; the value keeps Label Studio's convention of a rotation
  // about the top-left corner, so the corner is recomputed from the centre.
  rotateGesture(box, start) {
    const centre = fromLocal(box, { x: box.width / 2, y: box.height / 2 });
    return this.editGesture(start, (p, event) => {
      let rotation = (Math.atan2(p.y - centre.y, p.x - centre.x) * 180) / Math.PI + 90;
      if (event.shiftKey) rotation = Math.round(rotation / 15) * 15;
      rotation = ((rotation % 360) + 360) % 360;
      const offset = fromLocal({ x: 0, y: 0, rotation }, { x: box.width / 2, y: box.height / 2 });
      return { ...box, rotation, x: centre.x - offset.x, y: centre.y - offset.y };
    }, () => {});
  }

  drawOverlay(ctx) {
    const view = this.host.view;
    if (this.sketch) {
      const { x, y, width, height } = this.sketch;
      const corners = [[x, y], [x + width, y], [x + width, y + height], [x, y + height]]
        .map(([cx, cy]) => view.toStage(cx, cy));
      drawSketch(ctx, corners, this.host.colourOf(this.host.activeLabel), true);
    }
    const box = this.host.editable;
    if (!box) return;
    const handles = this.handlePoints(box);
    const colour = this.host.colourOf(box.label);
    if (this.rotated) {
      const middle = fromLocal(box, { x: box.width / 2, y: 0 });
      const top = view.toStage(middle.x, middle.y);
      const knob = handles.pop();
      drawSketch(ctx, [top, knob], colour, false);
      ctx.save();
      ctx.fillStyle = "#fff";
      ctx.strokeStyle = colour;
      ctx.lineWidth = 1.5;
      ctx.beginPath();
      ctx.arc(knob.x, knob.y, HANDLE_SIZE / 2 + 1, 0, Math.PI * 2);
      ctx.fill();
      ctx.stroke();
      ctx.restore();
    }
    drawHandles(ctx, handles, colour);
  }

  cancel() {
    if (!this.sketch) return false;
    this.sketch = null;
    return true;
  }
}
