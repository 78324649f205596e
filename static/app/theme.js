// Applies the stored light/dark choice before first paint (classic script,
// loaded synchronously in <head> so the page never flashes the wrong theme).
(function () {
  try {
    var t = localStorage.getItem('edgecrm.theme');
    if (t === 'light' || t === 'dark') document.documentElement.setAttribute('data-theme', t);
  } catch (e) { /* storage unavailable: follow the system setting */ }
})();
