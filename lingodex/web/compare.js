// The /compare page: one query through two configurations, hits side by side with sub-scores and moves.
"use strict";

const sides = ["a", "b"];
const $ = (selector, root = document) => root.querySelector(selector);

function headers() {
  const token = $("#token").value || sessionStorage.getItem("lingodex-token") || "";
  if (token) sessionStorage.setItem("lingodex-token", token);
  return token ? { "Content-Type": "application/json", Authorization: `Bearer ${token}` }
               : { "Content-Type": "application/json" };
}

async function loadConfigurations() {
  const response = await fetch("/compare/configurations", { headers: headers() });
  if (!response.ok) { showError(response.status, await response.text()); return; }
  const found = await response.json();
  $("#error").textContent = "";
  sides.forEach((side, position) => {  // loaded again after the token changes: keep what the user chose
    const root = $(`#side-${side}`);
    fill($(".params", root), found.params, $(".params", root).value || found.params[0]);
    fill($(".strategy", root), found.strategies, $(".strategy", root).value || (position === 0 ? "hybrid" : "lexical"));
    if (!$(".index", root).value) $(".index", root).value = found.index;
  });
}

function fill(select, values, chosen) {
  select.replaceChildren(...values.map((value) => new Option(value, value, false, value === chosen)));
}

function sideOf(side) {
  const root = $(`#side-${side}`);
  return { params: $(".params", root).value, strategy: $(".strategy", root).value,
           index: $(".index", root).value || null };
}

function showError(status, text) {
  let detail = text;
  try { detail = JSON.parse(text).detail; } catch (ignored) { /* not JSON: show it as it came */ }
  $("#error").textContent = `${status}: ${typeof detail === "string" ? detail : JSON.stringify(detail)}`;
}

function moveLabel(hit) {
  if (hit.move === null) return ["new", "only here"];
  if (hit.move > 0) return ["up", `▲ ${hit.move}`];
  if (hit.move < 0) return ["down", `▼ ${-hit.move}`];
  return ["same", "="];
}

function render(side, result) {
  const root = $(`#side-${side}`);
  $(".status", root).textContent =
    `${result.hits.length} hits · language ${result.language} · fusion ${result.fusion}`;
  $(".hits", root).replaceChildren(...result.hits.map((hit) => {
    const item = document.createElement("li");
    item.className = "hit";
    item.dataset.id = hit.id;
    const [kind, label] = moveLabel(hit);
    const subs = Object.entries(hit.sub_scores)
      .map(([name, score]) => `${name} ${score.raw.toFixed(3)} (${score.normalised.toFixed(2)})`).join(" · ");
    item.innerHTML = `<span class="move ${kind}"></span><span class="title"></span>
      <span class="meta"></span>`;
    $(".move", item).textContent = label;
    $(".title", item).textContent = hit.title || hit.id;
    $(".meta", item).textContent = `${hit.id} · score ${hit.score.toFixed(4)}${subs ? " · " + subs : ""}`;
    return item;
  }));
}

async function search(event) {
  event.preventDefault();
  $("#error").textContent = "";
  const body = { text: $("#text").value, lang: $("#lang").value || null, size: Number($("#size").value) || 10,
                 a: sideOf("a"), b: sideOf("b") };
  const response = await fetch("/compare", { method: "POST", headers: headers(), body: JSON.stringify(body) });
  if (!response.ok) { showError(response.status, await response.text()); return; }
  const result = await response.json();
  sides.forEach((side) => render(side, result[side]));
  document.body.dataset.searched = body.text;
}

for (const side of sides) {  // the two columns, from one template
  const column = $("#side").content.firstElementChild.cloneNode(true);
  column.id = `side-${side}`;
  $("legend", column).textContent = side.toUpperCase();
  $(".sides").append(column);
}
$("#query").addEventListener("submit", search);
$("#token").addEventListener("change", loadConfigurations);
loadConfigurations();
