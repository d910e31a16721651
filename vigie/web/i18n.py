"""The words of the web pages in English and French, and which language a reader gets:
`?lang=` (remembered in a cookie), else the cookie, else Accept-Language, else English.

Messages are `str.format` templates with named fields; a few have a plural form, chosen
by their `n`. The data shown (headlines, errors stored by the crawler) is not translated.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

LANGUAGES = ("en", "fr")
DEFAULT = "en"
COOKIE = "vigie_lang"
NAMES = {"en": "English", "fr": "Français"}  # each in its own language

Plural = tuple[str, str]  # (one, other)
Message = str | Plural

MESSAGES: dict[str, dict[str, Message]] = {
    "en": {
        "skip": "Skip to the content",
        "nav": "Main",
        "nav.timeline": "Timeline",
        "nav.search": "Search",
        "nav.sources": "Sources",
        "nav.api": "API",
        "language": "Language",
        "search.label": "Search the updates",
        "search.placeholder": 'words, "a phrase", -excluded',
        "search.submit": "Search",
        "footer": "A read-only view of the store. Press ? for the keyboard shortcuts.",
        "timeline.title": "Latest updates",
        "timeline.filter": "Sources shown",
        "timeline.all": "All sources",
        "timeline.apply": "Show",
        "timeline.empty": "Nothing here yet: no update is stored for these sources.",
        "timeline.older": "Older updates",
        "timeline.newest": "Back to the newest",
        "timeline.older_page": "An older page: new updates are not added here.",
        "live.on": "Live",
        "live.off": "Reconnecting…",
        "live.new": ("1 new update", "{n} new updates"),
        "live.stale": "Many updates arrived while the page was disconnected.",
        "live.reload": "Reload",
        "row.key": "Key moment",
        "row.edited": "edited {n}×",
        "row.also": "also in {sources}",
        "row.copies": "The copies of this news",
        "row.untitled": "(no headline)",
        "row.open": "Open",
        "row.original": "Original post",
        "row.story": "Side by side",
        "time.zone": "at the source ({zone}): {time}",
        "search.title": "Search",
        "search.results_for": "Updates matching {q}",
        "search.filtered": "Updates",
        "search.help": (
            'Words are all required; "a phrase" matches those words in a row; -word or '
            '-"a phrase" excludes. Accents and case do not matter.'
        ),
        "search.filters": "Filters",
        "search.sources": "Sources",
        "search.since": "Published since",
        "search.until": "Published until",
        "search.seen_since": "Arrived since",
        "search.time_hint": "ISO 8601 (2026-02-10T08:00) or a time ago (2h, 3d)",
        "search.highlighted": "Key moments only",
        "search.edited": "Edited updates only",
        "search.order": "Order",
        "search.rank": "Best match first",
        "search.newest": "Newest first",
        "search.none": "No update matches.",
        "search.next": "Next page",
        "search.first": "First page",
        "search.prompt": "Type words to search every stored update.",
        "update.title": "Update #{id}",
        "update.published": "Published",
        "update.updated": "Changed by the publisher",
        "update.first_seen": "First seen by vigie",
        "update.last_seen": "Last seen by vigie",
        "update.source": "Source",
        "update.revisions": "Revisions",
        "update.never_edited": "Never edited since vigie first saw it.",
        "update.revision": "Revision {n}",
        "update.first_revision": "Revision 1, as first seen",
        "update.seen": "seen",
        "update.headline": "Headline",
        "update.body": "Text",
        "update.removed": "removed",
        "update.added": "added",
        "update.sightings": "The same news in other sources",
        "update.no_sightings": "Not seen in any other source.",
        "update.story": "See the copies side by side",
        "story.title": "Story #{id}",
        "story.lead": "The same news in {n} sources, earliest first.",
        "story.first": "{source} had it first",
        "story.first_mark": "first",
        "story.later": "{delay} later",
        "story.same": "at the same time",
        "story.published": "published",
        "story.seen": "seen by vigie",
        "sources.title": "Sources",
        "sources.name": "Source",
        "sources.status": "Status",
        "sources.last_poll": "Last poll",
        "sources.next_poll": "Next poll",
        "sources.interval": "Interval",
        "sources.every": "every {d}",
        "sources.adapted": "now every {d}",
        "sources.backoff_until": "until",
        "sources.failures": ("1 failure in a row", "{n} failures in a row"),
        "sources.updates": "Updates",
        "sources.chart": "Arrivals per hour, last 24 hours",
        "sources.chart_label": "{total} updates in the last 24 hours; busiest hour {peak}",
        "sources.chart_none": "No update in the last 24 hours",
        "sources.hour": "{hour}: {n}",
        "sources.never": "never",
        "sources.none": "No source is configured.",
        "status.ok": "OK",
        "status.not_modified": "OK, unchanged",
        "status.error": "Error",
        "status.gone": "Gone",
        "status.ended": "Ended",
        "status.disabled": "Disabled",
        "status.backoff": "Backing off",
        "status.new": "Not polled yet",
        "help.title": "Keyboard shortcuts",
        "help.next": "next update",
        "help.previous": "previous update",
        "help.open": "open the selected update",
        "help.search": "search",
        "help.help": "show this help",
        "help.close": "Close",
        "error.title": "Error {status}",
        "error.400": "This request cannot be answered",
        "error.401": "A token is needed",
        "error.401.help": (
            "This server asks for its API token: give it as the password (any user name)."
        ),
        "error.404": "Not found",
        "error.503": "The store cannot be read now",
        "error.other": "Something went wrong",
        "error.back": "Back to the timeline",
    },
    "fr": {
        "skip": "Aller au contenu",
        "nav": "Navigation principale",
        "nav.timeline": "Fil",
        "nav.search": "Recherche",
        "nav.sources": "Sources",
        "nav.api": "API",
        "language": "Langue",
        "search.label": "Chercher dans les mises à jour",
        "search.placeholder": "mots, « une expression », -exclu",
        "search.submit": "Chercher",
        "footer": "Vue en lecture seule du stock. Tapez ? pour les raccourcis clavier.",
        "timeline.title": "Dernières mises à jour",
        "timeline.filter": "Sources affichées",
        "timeline.all": "Toutes les sources",
        "timeline.apply": "Afficher",
        "timeline.empty": "Rien pour l’instant : aucune mise à jour de ces sources.",
        "timeline.older": "Mises à jour plus anciennes",
        "timeline.newest": "Revenir aux plus récentes",
        "timeline.older_page": "Page ancienne : les nouvelles mises à jour n’y sont pas ajoutées.",
        "live.on": "En direct",
        "live.off": "Reconnexion…",
        "live.new": ("1 nouvelle mise à jour", "{n} nouvelles mises à jour"),
        "live.stale": "Beaucoup de mises à jour sont arrivées pendant la déconnexion.",
        "live.reload": "Recharger",
        "row.key": "Moment clé",
        "row.edited": "modifié {n}×",
        "row.also": "aussi dans {sources}",
        "row.copies": "Les copies de cette information",
        "row.untitled": "(sans titre)",
        "row.open": "Ouvrir",
        "row.original": "Publication d’origine",
        "row.story": "Côte à côte",
        "time.zone": "à la source ({zone}) : {time}",
        "search.title": "Recherche",
        "search.results_for": "Mises à jour contenant {q}",
        "search.filtered": "Mises à jour",
        "search.help": (
            "Tous les mots sont requis ; « une expression » entre guillemets droits trouve "
            'ces mots à la suite ; -mot ou -"une expression" exclut. Accents et casse '
            "ne comptent pas."
        ),
        "search.filters": "Filtres",
        "search.sources": "Sources",
        "search.since": "Publiées depuis",
        "search.until": "Publiées jusqu’à",
        "search.seen_since": "Arrivées depuis",
        "search.time_hint": "ISO 8601 (2026-02-10T08:00) ou une durée (2h, 3d)",
        "search.highlighted": "Moments clés seulement",
        "search.edited": "Mises à jour modifiées seulement",
        "search.order": "Ordre",
        "search.rank": "Les plus pertinentes d’abord",
        "search.newest": "Les plus récentes d’abord",
        "search.none": "Aucune mise à jour ne correspond.",
        "search.next": "Page suivante",
        "search.first": "Première page",
        "search.prompt": "Tapez des mots pour chercher dans toutes les mises à jour.",
        "update.title": "Mise à jour n° {id}",
        "update.published": "Publiée",
        "update.updated": "Modifiée par l’éditeur",
        "update.first_seen": "Vue pour la première fois",
        "update.last_seen": "Vue pour la dernière fois",
        "update.source": "Source",
        "update.revisions": "Révisions",
        "update.never_edited": "Jamais modifiée depuis que vigie l’a vue.",
        "update.revision": "Révision {n}",
        "update.first_revision": "Révision 1, telle que vue la première fois",
        "update.seen": "vue",
        "update.headline": "Titre",
        "update.body": "Texte",
        "update.removed": "supprimé",
        "update.added": "ajouté",
        "update.sightings": "La même information dans d’autres sources",
        "update.no_sightings": "Vue dans aucune autre source.",
        "update.story": "Voir les copies côte à côte",
        "story.title": "Sujet n° {id}",
        "story.lead": "La même information dans {n} sources, la plus ancienne d’abord.",
        "story.first": "{source} l’a eue en premier",
        "story.first_mark": "en premier",
        "story.later": "{delay} plus tard",
        "story.same": "au même moment",
        "story.published": "publiée",
        "story.seen": "vue par vigie",
        "sources.title": "Sources",
        "sources.name": "Source",
        "sources.status": "État",
        "sources.last_poll": "Dernier passage",
        "sources.next_poll": "Prochain passage",
        "sources.interval": "Intervalle",
        "sources.every": "toutes les {d}",
        "sources.adapted": "en ce moment toutes les {d}",
        "sources.backoff_until": "jusqu’à",
        "sources.failures": ("1 échec d’affilée", "{n} échecs d’affilée"),
        "sources.updates": "Mises à jour",
        "sources.chart": "Arrivées par heure, dernières 24 heures",
        "sources.chart_label": "{total} mises à jour en 24 heures ; heure la plus active : {peak}",
        "sources.chart_none": "Aucune mise à jour en 24 heures",
        "sources.hour": "{hour} : {n}",
        "sources.never": "jamais",
        "sources.none": "Aucune source n’est configurée.",
        "status.ok": "OK",
        "status.not_modified": "OK, inchangée",
        "status.error": "Erreur",
        "status.gone": "Disparue",
        "status.ended": "Terminée",
        "status.disabled": "Désactivée",
        "status.backoff": "En pause",
        "status.new": "Pas encore interrogée",
        "help.title": "Raccourcis clavier",
        "help.next": "mise à jour suivante",
        "help.previous": "mise à jour précédente",
        "help.open": "ouvrir la mise à jour choisie",
        "help.search": "chercher",
        "help.help": "afficher cette aide",
        "help.close": "Fermer",
        "error.title": "Erreur {status}",
        "error.400": "Cette requête ne peut pas recevoir de réponse",
        "error.401": "Un jeton est nécessaire",
        "error.401.help": (
            "Ce serveur demande son jeton d’API : donnez-le comme mot de passe "
            "(n’importe quel nom d’utilisateur)."
        ),
        "error.404": "Introuvable",
        "error.503": "Le stock ne peut pas être lu pour l’instant",
        "error.other": "Quelque chose s’est mal passé",
        "error.back": "Revenir au fil",
    },
}

Translate = Callable[..., str]


def translator(lang: str) -> Translate:
    """t(key, **fields) in `lang`: a plural message picks its form by `n`."""
    messages = MESSAGES[lang if lang in MESSAGES else DEFAULT]

    def t(key: str, **fields: Any) -> str:
        message = messages[key]
        if isinstance(message, tuple):
            message = message[0] if fields.get("n") == 1 else message[1]
        return message.format(**fields) if fields else message

    return t


def has_message(key: str) -> bool:
    return key in MESSAGES[DEFAULT]


def plural_forms(lang: str, key: str) -> Plural:
    """Both forms of a plural message, for the page's script to choose from."""
    message = MESSAGES[lang][key]
    return message if isinstance(message, tuple) else (message, message)


def _accepted(header: str) -> list[str]:
    """The languages of an Accept-Language header, best first (q=0 left out)."""
    ranked = []
    for i, part in enumerate(header.split(",")[:50]):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if q > 0 and tag:
            ranked.append((-q, i, tag.strip().lower().split("-")[0]))
    return [tag for _, _, tag in sorted(ranked)]


def pick_language(query: Mapping[str, str], cookies: Mapping[str, str], accept: str) -> str:
    """The language of a page: ?lang=, the cookie, Accept-Language, English."""
    for chosen in (query.get("lang"), cookies.get(COOKIE)):
        if chosen in LANGUAGES:
            return chosen  # type: ignore[return-value]
    for tag in _accepted(accept):
        if tag in LANGUAGES:
            return tag
        if tag == "*":
            break
    return DEFAULT
