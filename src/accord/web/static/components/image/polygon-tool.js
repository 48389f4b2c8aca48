// Polygons: click to add points, click the first point (or press Enter) to close. On the
// selected polygon: drag a vertex to move it, drag the body to move the whole polygon,
// double-click an edge to insert a vertex, Alt-click or right-click a vertex to remove it.
import { clamp, distanceToSegment } from "./geometry.js";
import { drag, stageDistance } from "./gestures.js";
import { regionContains, translated } from "./regions.js";
import { HANDLE_SIZE, drawHandles, drawSketch } from "./render.js";

const CLOSE_RADIUS = 8; // stage pixels around the first point that close the polygon
const DUPLICATE_RADIUS = 2; // a second click this close to the last point adds nothing

export class PolygonTool {
  constructor(host) {
    this.host = host;
    this.points = null; // [[x, y], ...] of the polygon being drawn
    this.pointer = null;
  }

  hint() {
    return this.points
      ? `${this.points.length} point(s): click to add, click the first point or press Enter to close, Escape to cancel, Backspace to drop the last point.`
      : "Click to start a polygon (Shift-click to start one over another region). Select a polygon to drag its vertices; double-click an edge to add one; Alt-click a vertex to remove it.";
  }

  inside(p) {
    return [clamp(p.x, 0, this.host.imageWidth), clamp(p.y, 0, this.host.imageHeight)];
  }

  vertexAt(polygon, p) {
    return polygon.points.findIndex(([x, y]) => stageDistance(this.host.view, { x, y }, p) <= HANDLE_SIZE);
  }

  hover(p) {
    this.pointer = p;
    if (this.points) {
      this.host.redraw();
      return "crosshair";
    }
    const polygon = this.host.editable;
    if (polygon && this.vertexAt(polygon, p) >= 0) return "pointer";
    if (polygon && regionContains("polygons", polygon, p, HANDLE_SIZE / this.host.view.scale)) return "move";
    return "crosshair";
  }

  leave() {
    this.pointer = null;
    this.host.redraw();
  }

  press(p, event) {
    const host = this.host;
    if (this.points) {
      return event.button === 0 ? { move() {}, release: () => this.addPoint(p) } : null;
    }
    const polygon = host.editable;
    if (polygon) {
      const vertex = this.vertexAt(polygon, p);
      if (vertex >= 0 && (event.button === 2 || (event.button === 0 && event.altKey))) {
        return { move() {}, release: () => this.removeVertex(polygon, vertex) };
      }
      if (vertex >= 0 && event.button === 0) return this.vertexGesture(polygon, vertex, p);
      if (event.button === 0 && !event.shiftKey
          && regionContains("polygons", polygon, p, HANDLE_SIZE / host.view.scale)) {
        return this.moveGesture(polygon, p);
      }
    }
    if (event.button !== 0) return null;
    return drag(p, {
      click: (q) => {
        if (!event.shiftKey && host.selectAt(q)) return;
        this.points = [this.inside(q)];
        host.redraw();
        host.announce(this.hint());
      },
    });
  }

  addPoint(p) {
    const view = this.host.view;
    const [fx, fy] = this.points[0];
    if (this.points.length >= 3 && stageDistance(view, { x: fx, y: fy }, p) <= CLOSE_RADIUS) {
      this.finish();
      return;
    }
    const [lx, ly] = this.points[this.points.length - 1];
    if (stageDistance(view, { x: lx, y: ly }, p) <= DUPLICATE_RADIUS) return;
    this.points.push(this.inside(p));
    this.host.redraw();
    this.host.announce(this.hint());
  }

  // Enter: closes the polygon being drawn.
  finish() {
    if (!this.points) return false;
    if (this.points.length < 3) {
      this.host.announce("A polygon needs at least 3 points.");
      return true;
    }
    const host = this.host;
    const before = host.snapshot();
    host.addRegion({ label: host.activeLabel, points: this.points });
    this.points = null;
    host.commit(before);
    host.announce(this.hint());
    return true;
  }

  cancel() {
    if (!this.points) return false;
    this.points = null;
    this.host.redraw();
    this.host.announce(this.hint());
    return true;
  }

  // Backspace while drawing drops the last point instead of deleting a region.
  removeLast() {
    if (!this.points) return false;
    this.points.pop();
    if (!this.points.length) this.points = null;
    this.host.redraw();
    return true;
  }

  vertexGesture(polygon, index, start) {
    const host = this.host;
    const before = host.snapshot();
    let changed = false;
    return drag(start, {
      move: (p) => {
        const points = polygon.points.map((q) => [...q]);
        points[index] = this.inside(p);
        host.replaceRegion({ ...polygon, points });
        changed = true;
      },
      drop: () => changed && host.commit(before),
    });
  }

  moveGesture(polygon, start) {
    const host = this.host;
    const before = host.snapshot();
    let changed = false;
    return drag(start, {
      move: (p) => {
        host.replaceRegion(translated("polygons", polygon, p.x - start.x, p.y - start.y,
          host.imageWidth, host.imageHeight));
        changed = true;
      },
      drop: () => changed && host.commit(before),
      click: (p) => host.selectAt(p),
    });
  }

  removeVertex(polygon, index) {
    if (polygon.points.length <= 3) {
      this.host.announce("A polygon keeps at least 3 points; delete the polygon instead.");
      return;
    }
    const before = this.host.snapshot();
    this.host.replaceRegion({ ...polygon, points: polygon.points.filter((_, i) => i !== index) });
    this.host.commit(before);
  }

  // Double-click on an edge of the selected polygon inserts a vertex there.
  dblclick(p) {
    const host = this.host;
    const polygon = host.editable;
    if (!polygon || this.points) return false;
    const tolerance = HANDLE_SIZE / host.view.scale;
    const points = polygon.points.map(([x, y]) => ({ x, y }));
    const edge = points.findIndex((a, i) => distanceToSegment(p, a, points[(i + 1) % points.length]) <= tolerance);
    if (edge < 0) return false;
    const before = host.snapshot();
    const next = polygon.points.map((q) => [...q]);
    next.splice(edge + 1, 0, this.inside(p));
    host.replaceRegion({ ...polygon, points: next });
    host.commit(before);
    return true;
  }

  drawOverlay(ctx) {
    const host = this.host;
    const view = host.view;
    const polygon = host.editable;
    if (polygon) {
      drawHandles(ctx, polygon.points.map(([x, y]) => view.toStage(x, y)), host.colourOf(polygon.label));
    }
    if (!this.points) return;
    const stage = this.points.map(([x, y]) => view.toStage(x, y));
    if (this.pointer) stage.push({ x: this.pointer.sx, y: this.pointer.sy });
    const colour = host.colourOf(host.activeLabel);
    drawSketch(ctx, stage, colour, false);
    drawHandles(ctx, stage.slice(0, this.points.length), colour);
    if (this.points.length >= 3) {
      ctx.save();
      ctx.strokeStyle = colour;
      ctx.lineWidth = 2;
      ctx.beginPath();
      ctx.arc(stage[0].x, stage[0].y, CLOSE_RADIUS, 0, Math.PI * 2);
      ctx.stroke();
      ctx.restore();
    }
  }
}
