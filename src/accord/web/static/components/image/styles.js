// The widget's own layout, adopted once by the document. Label buttons reuse the page's
// .label-picker/.label-button/.swatch styles; the pressed state is repeated here so the element
// also reads well on a page without them.
const CSS = `
accord-image-regions { display: block; }
accord-image-regions:focus-visible { outline: 3px solid var(--focus, #ffbf47); outline-offset: 2px; }
accord-image-regions .label-picker { display: flex; flex-wrap: wrap; gap: 6px; margin-bottom: 6px; }
accord-image-regions .label-button[aria-pressed="true"] { border-color: currentColor; font-weight: 600;
  box-shadow: inset 0 -3px 0 var(--swatch, #2454d6); }
accord-image-regions .swatch { display: inline-block; width: .8em; height: .8em; border-radius: 2px;
  background: var(--swatch); margin-right: 4px; vertical-align: middle; }
accord-image-regions .image-tools { display: flex; flex-wrap: wrap; gap: 6px; align-items: center; margin-bottom: 6px; }
accord-image-regions .image-tools button { padding: 2px 10px; }
accord-image-regions .image-tools button[aria-pressed="true"] { background: #1d2430; color: #fff; }
accord-image-regions .image-stage { position: relative; height: var(--image-stage-height, min(70vh, 640px));
  min-height: 240px; background: #20242b; border-radius: 4px; overflow: hidden; touch-action: none;
  user-select: none; }
accord-image-regions .image-stage canvas { position: absolute; inset: 0; width: 100%; height: 100%; }
accord-image-regions .image-status { font-size: .85rem; color: var(--muted, #5b6678); margin: 4px 0; min-height: 1.3em; }
accord-image-regions .region-list { list-style: none; padding: 0; margin: 4px 0 0; display: flex;
  flex-direction: column; gap: 2px; max-height: 220px; overflow: auto; }
accord-image-regions .region-list li { display: flex; gap: 6px; align-items: center; }
accord-image-regions .region-list li.selected { background: #eef4ff; }
accord-image-regions .region-list li.model .region-name { font-style: italic; }
accord-image-regions .region-list button { padding: 0 6px; }
accord-image-regions .prelabel-badge { border: 1px dashed currentColor; background: transparent; }
`;

let adopted = false;

export function adoptStyles() {
  if (adopted) return;
  const sheet = new CSSStyleSheet();
  sheet.replaceSync(CSS);
  document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];
  adopted = true;
}
