/// The status page at `/`: link state, calls in progress and the last call records, refreshed every second from the
/// JSON endpoints. No build step, no external assets.
enum StatusPage {
    static let html = """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>ctibridge</title>
        <style>
        body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5rem; color: #1b1f24; }
        h1 { font-size: 1.3rem; margin: 0 0 .5rem; }
        h2 { font-size: 1.05rem; margin: 1.2rem 0 .4rem; }
        .pill { display: inline-block; padding: .1rem .6rem; border-radius: 1rem; font-weight: 600; }
        .up { background: #d4f5dd; color: #0b5d1e; } .down, .starting { background: #fde2e1; color: #8a1c17; }
        table { border-collapse: collapse; width: 100%; }
        th, td { text-align: left; padding: .25rem .5rem; border-bottom: 1px solid #e4e7eb; vertical-align: top; }
        th { font-weight: 600; background: #f6f8fa; }
        td.num { text-align: right; font-variant-numeric: tabular-nums; }
        .muted { color: #6a737d; }
        </style>
        </head>
        <body>
        <h1>ctibridge <span id="link" class="pill starting">starting</span></h1>
        <div class="muted" id="summary">connecting…</div>
        <h2>Calls in progress (<span id="activeCount">0</span>)</h2>
        <table><thead><tr><th>Interaction</th><th>Calling</th><th>Called</th><th>Queue</th><th>Parties</th><th>Since</th></tr></thead>
        <tbody id="active"></tbody></table>
        <h2>Last finished calls</h2>
        <table><thead><tr><th>Ended</th><th>Calling</th><th>Called</th><th>Outcome</th><th>Agent</th>
        <th>Wait s</th><th>Talk s</th><th>Hold s</th><th>Call ids</th></tr></thead>
        <tbody id="records"></tbody></table>
        <p class="muted">JSON: <a href="/api/v1/calls">/api/v1/calls</a> · <a href="/api/v1/calls/active">/api/v1/calls/active</a>
        · <a href="/api/v1/agents">/api/v1/agents</a> · <a href="/api/v1/journal">/api/v1/journal</a>
        · <a href="/metrics">/metrics</a> · <a href="/health">/health</a></p>
        <script>
        "use strict";
        const text = (v) => (v === null || v === undefined) ? "" : String(v);
        function row(cells, classes) {
          const tr = document.createElement("tr");
          cells.forEach((c, i) => {
            const td = document.createElement("td");
            td.textContent = text(c);
            if (classes && classes[i]) td.className = classes[i];
            tr.appendChild(td);
          });
          return tr;
        }
        function time(iso) { return iso ? new Date(iso).toLocaleTimeString() : ""; }
        async function refresh() {
          try {
            const [health, active, calls] = await Promise.all([
              fetch("/health").then(r => r.json()),
              fetch("/api/v1/calls/active").then(r => r.json()),
              fetch("/api/v1/calls?since=" + encodeURIComponent(new Date(Date.now() - 3600e3).toISOString())).then(r => r.json())
            ]);
            const link = document.getElementById("link");
            link.textContent = health.link;
            link.className = "pill " + health.link;
            document.getElementById("summary").textContent =
              "journal #" + health.journalSeq + " · " + health.openCalls + " open · " + calls.length +
              " finished in the last hour · up " + health.uptimeSeconds + " s";
            document.getElementById("activeCount").textContent = active.length;
            const a = document.getElementById("active");
            a.replaceChildren(...active.map(i => row([i.interactionID, i.calling, i.called, i.queue,
              i.parties.map(p => p.device + (p.agentID ? " (" + p.agentID + ")" : "") + " " + p.state).join(", "),
              time(i.startedAt)])));
            const r = document.getElementById("records");
            r.replaceChildren(...calls.slice(-25).reverse().map(c => row([time(c.endedAt), c.calling, c.called,
              c.outcome + (c.resynced ? " (resync)" : ""), c.answeredBy, c.waitSeconds, c.talkSeconds, c.holdSeconds,
              c.callIDs.join(" ")], [null, null, null, null, null, "num", "num", "num", null])));
          } catch (e) {
            document.getElementById("summary").textContent = "bridge not reachable: " + e;
          }
        }
        refresh();
        setInterval(refresh, 1000);
        </script>
        </body>
        </html>
        """
}
