// The server counts characters as Unicode code points (Python str indices); the browser counts
// UTF-16 code units. Results cross that border here, and only here.

const SURROGATE = /[\uD800-\uDFFF]/;

export class TextOffsets {
  constructor(text) {
    this.text = text;
    this.simple = !SURROGATE.test(text);
    if (!this.simple) {
      this.unitOfPoint = [];
      let unit = 0;
      for (const ch of text) {
        this.unitOfPoint.push(unit);
        unit += ch.length;
      }
      this.unitOfPoint.push(unit);
    }
  }

  toUnits(point) {
    return this.simple ? point : this.unitOfPoint[point];
  }

  toPoints(unit) {
    if (this.simple) return unit;
    let lo = 0;
    let hi = this.unitOfPoint.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.unitOfPoint[mid] < unit) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

const WORD = /[\p{L}\p{N}\p{M}_'’-]/u;

// Widen a selection to whole words and drop the blanks at its ends.
export function snapToWords(text, start, end) {
  while (start < end && /\s/.test(text[start])) start++;
  while (end > start && /\s/.test(text[end - 1])) end--;
  if (start === end) return null;
  while (start > 0 && WORD.test(text[start - 1]) && WORD.test(text[start])) start--;
  while (end < text.length && WORD.test(text[end]) && WORD.test(text[end - 1])) end++;
  return [start, end];
}

// Tokens for keyboard selection: words, and every other non-blank character on its own.
export function tokenize(text) {
  const tokens = [];
  const pattern = /[\p{L}\p{N}\p{M}_'’-]+|[^\s\p{L}\p{N}\p{M}_'’-]/gu;
  for (const match of text.matchAll(pattern)) {
    tokens.push([match.index, match.index + match[0].length]);
  }
  return tokens;
}
