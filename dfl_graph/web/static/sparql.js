// The SPARQL query editor: picks examples, runs queries in place and draws the results.
// Plain JavaScript, no dependencies: the page works offline and, without JavaScript, as a plain form.
(function () {
  "use strict";
  const form = document.getElementById("sparql-form");
  if (!form) return;
  const textarea = document.getElementById("sparql-query");
  const picker = document.getElementById("sparql-example");
  const description = document.getElementById("sparql-example-description");
  const formatSelect = document.getElementById("sparql-format");
  const results = document.getElementById("sparql-results");
  const dataNode = document.getElementById("sparql-example-data");
  const examples = dataNode ? JSON.parse(dataNode.textContent) : [];
  const endpoint = form.getAttribute("action");

  if (picker) {
    picker.addEventListener("change", function () {
      const example = examples.find(function (e) { return e.name === picker.value; });
      if (!example) return;
      textarea.value = example.text;
      if (description) description.textContent = example.description || "";
    });
  }

  textarea.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      form.requestSubmit ? form.requestSubmit() : form.submit();
    }
  });

  function element(name, attributes, text) {
    const node = document.createElement(name);
    Object.keys(attributes || {}).forEach(function (key) { node.setAttribute(key, attributes[key]); });
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function note(text, className) {
    results.appendChild(element("p", { "class": className || "meta" }, text));
  }

  function cell(term) {
    const td = element("td");
    if (!term) return td;
    if (term.type === "uri") {
      td.appendChild(element("a", { href: term.value }, term.value));
    } else if (term.type === "bnode") {
      td.textContent = "_:" + term.value;
    } else if (term.type === "triple") {
      td.textContent = "<< " + JSON.stringify(term.value) + " >>";
    } else {
      td.appendChild(document.createTextNode(term.value));
      if (term["xml:lang"]) {
        td.appendChild(element("span", { "class": "meta" }, "@" + term["xml:lang"]));
      } else if (term.datatype) {
        const local = term.datatype.split(/[#/]/).pop();
        td.appendChild(element("span", { "class": "meta", title: term.datatype }, " ^^" + local));
      }
    }
    return td;
  }

  function drawTable(data) {
    const vars = data.head.vars || [];
    const bindings = data.results.bindings;
    const wrap = element("div", { "class": "table-scroll" });
    const table = element("table", { "class": "sparql-table" });
    const head = element("tr");
    vars.forEach(function (v) { head.appendChild(element("th", { scope: "col" }, "?" + v)); });
    table.appendChild(element("thead")).appendChild(head);
    const body = element("tbody");
    bindings.slice(0, 1000).forEach(function (binding) {
      const row = element("tr");
      vars.forEach(function (v) { row.appendChild(cell(binding[v])); });
      body.appendChild(row);
    });
    table.appendChild(body);
    wrap.appendChild(table);
    note(bindings.length + " rows" + (bindings.length > 1000 ? "; the first 1000 are shown" : "") + ".");
    results.appendChild(wrap);
  }

  form.addEventListener("submit", function (event) {
    const chosen = formatSelect ? formatSelect.value : "html";
    if (chosen !== "html") return; // a download: let the browser GET it
    event.preventDefault();
    const query = textarea.value;
    results.textContent = "";
    note("Running…", "sparql-status");
    const started = performance.now();
    const body = new URLSearchParams({ query: query });
    fetch(endpoint, {
      method: "POST",
      headers: {
        "Content-Type": "application/x-www-form-urlencoded",
        "Accept": "application/sparql-results+json, text/turtle;q=0.9",
      },
      body: body,
    }).then(function (response) {
      return response.text().then(function (text) { return { response: response, text: text }; });
    }).then(function (answer) {
      const response = answer.response;
      const seconds = ((performance.now() - started) / 1000).toFixed(2);
      results.textContent = "";
      if (!response.ok) {
        const box = element("div", { "class": "notice sparql-error" });
        box.appendChild(element("strong", {}, String(response.status)));
        box.appendChild(element("pre", {}, answer.text));
        results.appendChild(box);
        return;
      }
      const truncated = response.headers.get("X-DFL-Truncated");
      if (truncated) note("The result was cut at the endpoint's cap (" + truncated + ").", "notice");
      note("Answered in " + seconds + " s" + (response.headers.get("X-DFL-Cache") === "hit" ? " (from cache)" : "") + ".");
      const type = response.headers.get("Content-Type") || "";
      if (type.indexOf("application/sparql-results+json") === 0) {
        const data = JSON.parse(answer.text);
        if (Object.prototype.hasOwnProperty.call(data, "boolean")) {
          results.appendChild(element("p", { "class": "sparql-boolean" }, String(data.boolean)));
        } else {
          drawTable(data);
        }
      } else {
        results.appendChild(element("pre", { "class": "sparql-graph" }, answer.text));
      }
      if (window.history && window.history.replaceState) {
        window.history.replaceState(null, "", endpoint + "?" + new URLSearchParams({ query: query }).toString());
      }
    }).catch(function (error) {
      results.textContent = "";
      note("The query could not be sent: " + error, "notice sparql-error");
    });
  });
})();
