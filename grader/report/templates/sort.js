// Click a column header to sort the table by it (again: the other way). Cells sort by their
// data-sort value when they have one (numbers as numbers), else by their text.
document.querySelectorAll("table.sortable").forEach(function (table) {
  var heads = table.tHead.rows[0].cells;
  Array.prototype.forEach.call(heads, function (th, col) {
    th.title = "sort";
    th.addEventListener("click", function () {
      var asc = th.getAttribute("aria-sort") !== "ascending";
      Array.prototype.forEach.call(heads, function (h) { h.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", asc ? "ascending" : "descending");
      var body = table.tBodies[0];
      var keyed = Array.prototype.map.call(body.rows, function (row, i) {
        var cell = row.cells[col];
        var raw = cell.hasAttribute("data-sort") ? cell.getAttribute("data-sort") : cell.textContent.trim();
        var num = raw !== "" && isFinite(Number(raw)) ? Number(raw) : null;
        return {row: row, num: num, text: raw.toLowerCase(), i: i};
      });
      keyed.sort(function (a, b) {
        var d;
        if (a.num !== null && b.num !== null) { d = a.num - b.num; }
        else if (a.num !== null || b.num !== null) { d = a.num !== null ? -1 : 1; }
        else { d = a.text.localeCompare(b.text); }
        return (asc ? d : -d) || a.i - b.i;
      });
      keyed.forEach(function (k) { body.appendChild(k.row); });
    });
  });
});
