/*
 * The chat widget, part 1 of 3: its texts and small DOM helpers, shared as window.ClinicChat.
 * (widget-view.js renders the conversation; widget.js keeps the outbox and talks to the server.)
 *
 * Every text a patient can read comes from data/content/widget.yml, served by the page as a JSON
 * data block (#cw-strings; data, never run, so the CSP holds). Look texts up only with
 * t("key", values) or tNodes("key", values) and a literal key: a test parses these files for the
 * keys and checks each one is in widget.yml. A missing text never breaks the widget: it shows
 * the values alone (a phone number stays visible) or nothing.
 */
(function () {
  "use strict";

  var PLACEHOLDER = /\{([a-z_]+)\}/;

  function readStrings() {
    var node = document.getElementById("cw-strings");
    try {
      var parsed = JSON.parse(node ? node.textContent : "{}");
      return parsed && typeof parsed === "object" ? parsed : {};
    } catch (error) {
      return {};
    }
  }

  var strings = readStrings();

  function isString(value) {
    return typeof value === "string";
  }

  // The text for `key` split into literal parts (even indexes) and placeholder names (odd).
  function parts(key, values) {
    if (isString(strings[key])) {
      return strings[key].split(PLACEHOLDER);
    }
    if (window.console) {
      window.console.warn("chat widget: no text for " + key);
    }
    var names = Object.keys(values || {});
    var fallback = [""];
    names.forEach(function (name, index) {
      fallback.push(name, index < names.length - 1 ? " " : "");
    });
    return fallback;
  }

  // The text for `key` as a string, `{name}` replaced by values[name].
  function t(key, values) {
    values = values || {};
    return parts(key, values)
      .map(function (part, index) {
        if (index % 2 === 0) {
          return part;
        }
        return values[part] === undefined || values[part] === null ? "" : String(values[part]);
      })
      .join("");
  }

  // The same as DOM nodes: a value may be a node (e.g. a phone link) and is inserted as is.
  function tNodes(key, values) {
    values = values || {};
    var fragment = document.createDocumentFragment();
    parts(key, values).forEach(function (part, index) {
      var value = index % 2 === 0 ? part : values[part];
      if (value === undefined || value === null || value === "") {
        return;
      }
      fragment.appendChild(value instanceof Node ? value : document.createTextNode(String(value)));
    });
    return fragment;
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (text !== undefined && text !== null) {
      node.textContent = String(text);
    }
    return node;
  }

  function srOnly(text) {
    return el("span", "sr-only", text);
  }

  function telHref(number) {
    return "tel:" + String(number).replace(/[^\d+]/g, "");
  }

  function link(href, text, className) {
    var a = el("a", className, text);
    a.setAttribute("href", href);
    return a;
  }

  function phoneLink(number, className) {
    return link(telHref(number), number, className);
  }

  function emailLink(address) {
    // A plain address only: anything else is shown as text. (\x22 is a double quote.)
    if (/^[^\s@<>\x22]+@[^\s@<>\x22]+$/.test(address)) {
      return link("mailto:" + address, address);
    }
    return document.createTextNode(address);
  }

  function formatDate(iso) {
    var match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso || "");
    if (!match) {
      return iso || "";
    }
    var date = new Date(Number(match[1]), Number(match[2]) - 1, Number(match[3]));
    try {
      return date.toLocaleDateString(t("date_locale") || undefined, {
        day: "numeric",
        month: "long",
        year: "numeric",
      });
    } catch (error) {
      return iso;
    }
  }

  function readStore(storage, key, fallback) {
    try {
      var raw = storage.getItem(key);
      return raw === null ? fallback : JSON.parse(raw);
    } catch (error) {
      return fallback;
    }
  }

  function writeStore(storage, key, value) {
    try {
      storage.setItem(key, JSON.stringify(value));
      return true;
    } catch (error) {
      return false; // storage full or disabled
    }
  }

  window.ClinicChat = {
    t: t,
    tNodes: tNodes,
    isString: isString,
    el: el,
    srOnly: srOnly,
    telHref: telHref,
    link: link,
    phoneLink: phoneLink,
    emailLink: emailLink,
    formatDate: formatDate,
    readStore: readStore,
    writeStore: writeStore,
  };
})();
