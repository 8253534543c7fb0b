/*
 * Chart page script (served from our origin; CSP allows 'self' scripts only, nothing inline).
 * Reads /charts/:strategyId?<query>, fetches /api/charts/:strategyId/data?<same query>, draws the candles
 * and the strategy's markers with lightweight-charts, and exposes what is drawn for the capturer:
 *   window.__chart = { ready, error, markers(), candles(), lastClosedTime }
 * markers() reads the markers back from the chart's markers plugin (what is on screen), as
 * [{ time, side: 'BUY'|'SELL', price, reason }]. `ready` turns true after the first frame is painted.
 */
(function () {
  'use strict';
  var api = { ready: false, error: null, lastClosedTime: null, markers: function () { return []; }, candles: function () { return []; } };
  window.__chart = api;
  var id = decodeURIComponent(location.pathname.split('/').filter(Boolean).pop() || '');
  var statusEl = document.getElementById('status');
  function fail(msg) { api.error = msg; statusEl.textContent = 'error: ' + msg; }

  fetch('/api/charts/' + encodeURIComponent(id) + '/data' + location.search, { headers: { accept: 'application/json' } })
    .then(function (res) {
      return res.json().then(function (body) {
        if (!res.ok) throw new Error((body && body.error && body.error.message) || ('HTTP ' + res.status));
        return body;
      });
    })
    .then(draw)
    .catch(function (err) { fail(String(err && err.message || err)); });

  function draw(data) {
    var LC = window.LightweightCharts;
    document.getElementById('title').textContent = data.pair + ' ' + data.timeframe + ' · ' + data.strategy + ' ' + JSON.stringify(data.params) + ' · strategy ' + data.strategyId;
    var el = document.getElementById('chart');
    var chart = LC.createChart(el, {
      width: el.clientWidth || 860, height: el.clientHeight || 420,
      layout: { attributionLogo: true, background: { color: '#ffffff' }, textColor: '#131722' },
      timeScale: { timeVisible: true, secondsVisible: data.timeframe.slice(-1) === 's' },
    });
    var series = chart.addSeries(LC.CandlestickSeries, {});
    series.setData(data.candles.map(function (c) { return { time: c.time, open: c.open, high: c.high, low: c.low, close: c.close }; }));
    var meta = {};
    var drawn = data.markers.map(function (m, i) {
      var key = 'm' + i;
      meta[key] = m;
      var buy = m.side === 'BUY';
      return { id: key, time: m.time, position: buy ? 'belowBar' : 'aboveBar', color: buy ? '#089981' : '#f23645', shape: buy ? 'arrowUp' : 'arrowDown', text: m.side };
    });
    var plugin = LC.createSeriesMarkers(series, drawn);
    chart.timeScale().fitContent();
    api.lastClosedTime = data.lastClosedTime;
    api.candles = function () { return data.candles.slice(); };
    api.markers = function () {
      return plugin.markers().map(function (d) {
        var m = meta[d.id];
        return { time: Number(d.time), side: d.text === 'SELL' ? 'SELL' : 'BUY', price: m ? m.price : NaN, reason: m ? m.reason : '' };
      });
    };
    var list = document.getElementById('markers');
    data.markers.slice(-10).forEach(function (m) {
      var li = document.createElement('li');
      li.textContent = new Date(m.time * 1000).toISOString().replace('T', ' ').slice(0, 19) + ' ' + m.side + ' @ ' + m.price + ' (' + m.reason + ')';
      list.appendChild(li);
    });
    statusEl.textContent = data.candles.length + ' candles, ' + data.markers.length + ' markers';
    // Two frames: the chart paints on the next animation frame; ready once it has.
    requestAnimationFrame(function () { requestAnimationFrame(function () { api.ready = true; }); });
  }
})();
