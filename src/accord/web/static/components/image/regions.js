// Regions in the value format the server validates (natural image pixels), and the geometry
// every tool needs of them: what a point hits and how a region moves without leaving the image.
import { boundsOf, boxCorners, distanceToSegment, isInside, pointInPolygon, shiftInside, toLocal } from "./geometry.js";

export const ID_PREFIX = { boxes: "b", rotated_boxes: "r", polygons: "p", keypoints: "k", masks: "m" };

const round = (v) => Math.round(v * 100) / 100;

// A region read from a value or a prediction; null when it is not one of this type.
export function normaliseRegion(type, raw) {
  if (!raw || typeof raw !== "object" || !readable(type, raw)) return null;
  const region = { id: raw.id == null ? null : String(raw.id) };
  if (raw.label != null) region.label = String(raw.label);
  switch (type) {
    case "boxes":
    case "rotated_boxes":
      for (const key of ["x", "y", "width", "height"]) region[key] = Number(raw[key]) || 0;
      if (type === "rotated_boxes") region.rotation = Number(raw.rotation) || 0;
      break;
    case "polygons":
      region.points = (raw.points || []).map(([x, y]) => [Number(x), Number(y)]);
      break;
    case "keypoints":
      region.points = Object.fromEntries(Object.entries(raw.points || {})
        .map(([name, p]) => [name, p ? { x: Number(p.x), y: Number(p.y) } : null]));
      break;
    case "masks":
      region.rle = { size: [...raw.rle.size], counts: [...raw.rle.counts] };
      break;
  }
  return region;
}

function readable(type, raw) {
  if (type === "polygons") return Array.isArray(raw.points);
  if (type === "keypoints") return raw.points && typeof raw.points === "object";
  if (type === "masks") return Array.isArray(raw.rle?.size) && Array.isArray(raw.rle?.counts);
  return true;
}

export function serialiseRegion(type, region) {
  const out = { id: region.id };
  if (region.label !== undefined) out.label = region.label;
  switch (type) {
    case "boxes":
    case "rotated_boxes":
      for (const key of ["x", "y", "width", "height"]) out[key] = round(region[key]);
      if (type === "rotated_boxes") out.rotation = round(region.rotation);
      break;
    case "polygons":
      out.points = region.points.map(([x, y]) => [round(x), round(y)]);
      break;
    case "keypoints":
      out.points = Object.fromEntries(Object.entries(region.points)
        .map(([name, p]) => [name, p ? { x: round(p.x), y: round(p.y) } : null]));
      break;
    case "masks":
      out.rle = { size: [...region.rle.size], counts: [...region.rle.counts] };
      break;
  }
  return out;
}

// Mask RLEs are never changed in place (a stroke makes a new one), so copies share them.
export function cloneRegion(region) {
  const copy = { ...region };
  if (Array.isArray(region.points)) copy.points = region.points.map((p) => [...p]);
  else if (region.points) {
    copy.points = Object.fromEntries(Object.entries(region.points).map(([n, p]) => [n, p && { ...p }]));
  }
  return copy;
}

// The points that bound a region (a mask has none: it is painted, not moved).
export function outlineOf(type, region) {
  switch (type) {
    case "boxes":
    case "rotated_boxes":
      return boxCorners(region);
    case "polygons":
      return region.points.map(([x, y]) => ({ x, y }));
    case "keypoints":
      return Object.values(region.points).filter(Boolean);
    default:
      return [];
  }
}

function maskAt(rle, p) {
  const [height, width] = rle.size;
  const x = Math.floor(p.x);
  const y = Math.floor(p.y);
  if (x < 0 || y < 0 || x >= width || y >= height) return false;
  const index = y * width + x;
  let position = 0;
  for (let i = 0; i < rle.counts.length; i++) {
    position += rle.counts[i];
    if (index < position) return i % 2 === 1;
  }
  return false;
}

// Whether image point p falls on the region, with `tolerance` image pixels of slack.
export function regionContains(type, region, p, tolerance) {
  switch (type) {
    case "boxes":
    case "rotated_boxes": {
      const q = toLocal(region, p);
      return q.x >= -tolerance && q.y >= -tolerance
        && q.x <= region.width + tolerance && q.y <= region.height + tolerance;
    }
    case "polygons": {
      if (pointInPolygon(p, region.points)) return true;
      const points = outlineOf(type, region);
      return points.some((a, i) => distanceToSegment(p, a, points[(i + 1) % points.length]) <= tolerance);
    }
    case "keypoints":
      return outlineOf(type, region).some((q) => Math.hypot(q.x - p.x, q.y - p.y) <= tolerance * 1.5);
    case "masks":
      return maskAt(region.rle, p);
    default:
      return false;
  }
}

// Moves a region in place by (dx, dy).
function shift(type, region, dx, dy) {
  if (type === "boxes" || type === "rotated_boxes") {
    region.x += dx;
    region.y += dy;
  } else if (type === "polygons") {
    region.points = region.points.map(([x, y]) => [x + dx, y + dy]);
  } else if (type === "keypoints") {
    for (const p of Object.values(region.points)) if (p) { p.x += dx; p.y += dy; }
  }
  return region;
}

// A copy of `region` moved by (dx, dy), then pushed back inside the image if it left it.
export function translated(type, region, dx, dy, width, height) {
  const copy = shift(type, cloneRegion(region), dx, dy);
  const outline = outlineOf(type, copy);
  if (!outline.length) return copy;
  const back = shiftInside(boundsOf(outline), width, height);
  return shift(type, copy, back.dx, back.dy);
}

export function fitsImage(type, region, width, height) {
  return isInside(outlineOf(type, region), width, height);
}
