// Replacing a region of the page with the same region rendered again by the server, so its
// figures come from one place: the template. The region is aria-busy meanwhile; a failed request
// or a page without the region throws.
export async function refreshRegion(id) {
  const region = document.getElementById(id);
  region.setAttribute("aria-busy", "true");
  try {
    const response = await fetch(window.location.href, { credentials: "same-origin" });
    if (!response.ok) throw new Error(`${response.status} ${response.statusText}`);
    const fresh = new DOMParser().parseFromString(await response.text(), "text/html").getElementById(id);
    if (!fresh) throw new Error("the page came back without figures");
    region.replaceChildren(...fresh.childNodes);
  } finally {
    region.removeAttribute("aria-busy");
  }
}
