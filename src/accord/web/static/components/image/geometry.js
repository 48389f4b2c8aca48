// Plane geometry in image pixels (y points down, so a positive angle turns clockwise on screen).

export const clamp = (v, low, high) => Math.min(high, Math.max(low, v));

const radians = (degrees) => (degrees * Math.PI) / 180;

// A box's frame: origin at its top-left corner (x, y), axes turned by its rotation.
export function toLocal(box, p) {
  const t = radians(box.rotation || 0);
  const dx = p.x - box.x;
  const dy = p.y - box.y;
  return { x: dx * Math.cos(t) + dy * Math.sin(t), y: -dx * Math.sin(t) + dy * Math.cos(t) };
}

export function fromLocal(box, p) {
  const t = radians(box.rotation || 0);
  return {
    x: box.x + p.x * Math.cos(t) - p.y * Math.sin(t),
    y: box.y + p.x * Math.sin(t) + p.y * Math.cos(t),
  };
}

export function boxCorners(box) {
  return [[0, 0], [box.width, 0], [box.width, box.height], [0, box.height]]
    .map(([x, y]) => fromLocal(box, { x, y }));
}

export function boundsOf(points) {
  const xs = points.map((p) => p.x);
  const ys = points.map((p) => p.y);
  return { left: Math.min(...xs), top: Math.min(...ys), right: Math.max(...xs), bottom: Math.max(...ys) };
}

// The shift that brings a bounding rectangle back inside [0, width] x [0, height].
export function shiftInside(bounds, width, height) {
  const dx = bounds.left < 0 ? -bounds.left : bounds.right > width ? width - bounds.right : 0;
  const dy = bounds.top < 0 ? -bounds.top : bounds.bottom > height ? height - bounds.bottom : 0;
  return { dx, dy };
}

export function isInside(points, width, height, slack = 1e-6) {
  return points.every((p) => p.x >= -slack && p.y >= -slack && p.x <= width + slack && p.y <= height + slack);
}

export function pointInPolygon(p, points) {
  let inside = false;
  for (let i = 0, j = points.length - 1; i < points.length; j = i++) {
    const [xi, yi] = points[i];
    const [xj, yj] = points[j];
    if ((yi > p.y) !== (yj > p.y) && p.x < ((xj - xi) * (p.y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

export function distanceToSegment(p, a, b) {
  const dx = b.x - a.x;
  const dy = b.y - a.y;
  const length2 = dx * dx + dy * dy;
  const t = length2 ? clamp(((p.x - a.x) * dx + (p.y - a.y) * dy) / length2, 0, 1) : 0;
  return Math.hypot(p.x - (a.x + t * dx), p.y - (a.y + t * dy));
}
