// Tables with the class "sortable": the button in a column's header sorts the rows by that
// column's data-sort values (as numbers when the button says data-type="number"), again to
// reverse the order; empty values stay last. The header's aria-sort tells the current order.
function sortBy(header) {
  const row = header.parentElement;
  const index = [...row.children].indexOf(header);
  const numeric = header.querySelector("button.sort")?.dataset.type === "number";
  const direction = header.getAttribute("aria-sort") === "ascending" ? "descending" : "ascending";
  for (const cell of row.children) cell.removeAttribute("aria-sort");
  header.setAttribute("aria-sort", direction);
  const body = header.closest("table").tBodies[0];
  const key = (tr) => {
    const cell = tr.children[index];
    return (cell?.dataset.sort ?? cell?.textContent ?? "").trim();
  };
  const sign = direction === "ascending" ? 1 : -1;
  const rows = [...body.rows].sort((a, b) => {
    const x = key(a);
    const y = key(b);
    if (x === "" || y === "") return Number(x === "") - Number(y === "");
    if (numeric) return sign * (Number(x) - Number(y));
    return sign * x.localeCompare(y, undefined, { numeric: true, sensitivity: "base" });
  });
  body.append(...rows);
}

document.addEventListener("click", (event) => {
  const button = event.target.closest?.("table.sortable th button.sort");
  if (button) sortBy(button.closest("th"));
});
