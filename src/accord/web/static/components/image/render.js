// Drawing regions on the overlay canvas. The context is in stage (CSS) pixels, so line widths
// and handle sizes stay the same at every zoom; coordinates go through the viewport.
import { outlineOf } from "./regions.js";

export const HANDLE_SIZE = 8; // stage pixels
const MODEL_DASH = [6, 4];

// style: {colour, selected, model, maskCanvas}
export function drawRegion(ctx, view, type, region, style) {
  if (type === "masks") {
    drawMask(ctx, view, style);
    return;
  }
  ctx.save();
  ctx.strokeStyle = style.colour;
  ctx.fillStyle = style.colour;
  ctx.lineWidth = style.selected ? 3 : 2;
  ctx.setLineDash(style.model ? MODEL_DASH : []);
  const points = outlineOf(type, region).map((p) => view.toStage(p.x, p.y));
  if (type === "keypoints") {
    drawKeypoints(ctx, view, region, style);
  } else if (points.length) {
    ctx.beginPath();
    points.forEach((p, i) => (i ? ctx.lineTo(p.x, p.y) : ctx.moveTo(p.x, p.y)));
    ctx.closePath();
    ctx.globalAlpha = style.model ? 0.06 : style.selected ? 0.22 : 0.12;
    ctx.fill();
    ctx.globalAlpha = style.model ? 0.75 : 1;
    ctx.stroke();
  }
  if (points.length) tag(ctx, points, region.label, style);
  ctx.restore();
}

// The keypoint control's skeleton, when given, joins named points with lines.
function drawKeypoints(ctx, view, region, style) {
  const at = (name) => region.points[name] && view.toStage(region.points[name].x, region.points[name].y);
  ctx.globalAlpha = style.model ? 0.75 : 1;
  for (const [a, b] of style.skeleton || []) {
    const [p, q] = [at(a), at(b)];
    if (!p || !q) continue;
    ctx.beginPath();
    ctx.moveTo(p.x, p.y);
    ctx.lineTo(q.x, q.y);
    ctx.stroke();
  }
  ctx.setLineDash([]);
  for (const name of Object.keys(region.points)) {
    const p = at(name);
    if (!p) continue;
    ctx.beginPath();
    ctx.arc(p.x, p.y, style.selected ? 5 : 4, 0, Math.PI * 2);
    ctx.fillStyle = style.model ? "#fff" : style.colour;
    ctx.fill();
    ctx.strokeStyle = style.model ? style.colour : "#fff";
    ctx.lineWidth = 1.5;
    ctx.stroke();
    if (style.selected) {
      ctx.fillStyle = "#fff";
      ctx.strokeStyle = "#000";
      ctx.lineWidth = 3;
      ctx.font = "11px system-ui, sans-serif";
      ctx.strokeText(name, p.x + 7, p.y + 14);
      ctx.fillText(name, p.x + 7, p.y + 14);
    }
  }
}

function drawMask(ctx, view, style) {
  if (!style.maskCanvas) return;
  ctx.save();
  ctx.globalAlpha = style.model ? 0.3 : style.selected ? 0.6 : 0.45;
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(style.maskCanvas, view.x, view.y, view.imageWidth * view.scale, view.imageHeight * view.scale);
  ctx.restore();
}

// A small label tag at the region's top-most point; pre-labels say so in words, not just dashes.
function tag(ctx, points, label, style) {
  const text = `${label ?? ""}${style.model ? " · model" : ""}`.trim();
  if (!text) return;
  const anchor = points.reduce((best, p) => (p.y < best.y ? p : best));
  ctx.setLineDash([]);
  ctx.globalAlpha = style.model ? 0.8 : 1;
  ctx.font = "11px system-ui, sans-serif";
  const width = ctx.measureText(text).width + 8;
  ctx.fillStyle = style.model ? "#fff" : style.colour;
  ctx.fillRect(anchor.x, anchor.y - 16, width, 15);
  if (style.model) {
    ctx.lineWidth = 1;
    ctx.strokeStyle = style.colour;
    ctx.strokeRect(anchor.x, anchor.y - 16, width, 15);
  }
  ctx.fillStyle = style.model ? style.colour : "#fff";
  ctx.fillText(text, anchor.x + 4, anchor.y - 4.5);
}

export function drawHandles(ctx, points, colour) {
  ctx.save();
  ctx.setLineDash([]);
  ctx.fillStyle = "#fff";
  ctx.strokeStyle = colour;
  ctx.lineWidth = 1.5;
  const half = HANDLE_SIZE / 2;
  for (const p of points) {
    ctx.fillRect(p.x - half, p.y - half, HANDLE_SIZE, HANDLE_SIZE);
    ctx.strokeRect(p.x - half, p.y - half, HANDLE_SIZE, HANDLE_SIZE);
  }
  ctx.restore();
}

// An unfinished shape while it is being drawn: thin and dashed.
export function drawSketch(ctx, points, colour, closed) {
  if (!points.length) return;
  ctx.save();
  ctx.strokeStyle = colour;
  ctx.lineWidth = 1.5;
  ctx.setLineDash([4, 3]);
  ctx.beginPath();
  points.forEach((p, i) => (i ? ctx.lineTo(p.x, p.y) : ctx.moveTo(p.x, p.y)));
  if (closed) ctx.closePath();
  ctx.stroke();
  ctx.restore();
}
