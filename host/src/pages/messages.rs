//! The pages' strings in English, Polish and Italian, and the choice of
//! language from a browser's `Accept-Language` header.
//!
//! Each message is one line of the table below with its three texts, so a
//! message missing in one language does not compile. `{date}` is the only
//! placeholder; it is filled with an ISO date, which reads the same in all
//! three languages.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

/// A language the pages are shown in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    /// English, the default.
    En,
    /// Polish (Livespace's language).
    Pl,
    /// Italian (the Italian CRM plugin's language).
    It,
}

impl Language {
    /// Every language, the default first.
    pub const ALL: [Language; 3] = [Language::En, Language::Pl, Language::It];
    /// Shown when the browser asks for none of ours.
    pub const DEFAULT: Language = Language::En;

    /// The ISO 639-1 code: `en`, `pl`, `it`; also the code of consent text
    /// translations.
    pub const fn code(self) -> &'static str {
        match self {
            Language::En => "en",
            Language::Pl => "pl",
            Language::It => "it",
        }
    }

    /// The language of a tag such as `pl` or `pl-PL` (any case); `None` for
    /// one the pages are not translated into.
    pub fn from_tag(tag: &str) -> Option<Language> {
        let primary = tag.trim().split(['-', '_']).next().unwrap_or_default();
        Language::ALL
            .into_iter()
            .find(|l| l.code().eq_ignore_ascii_case(primary))
    }

    /// The language to show for an `Accept-Language` header (RFC 9110
    /// 12.5.4): the supported one with the highest q-value, the first listed
    /// on a tie; `*` stands for any not excluded with `q=0`; the default
    /// when the header is missing, malformed or names none of ours.
    pub fn negotiate(accept_language: Option<&str>) -> Language {
        let Some(header) = accept_language else {
            return Language::DEFAULT;
        };
        let mut best: Option<(f32, Language)> = None;
        let mut any = false;
        let mut refused: Vec<Language> = Vec::new();
        // A real header lists a handful; a long one gets no more work.
        for item in header.split(',').take(32) {
            let Some((tag, q)) = parse_item(item) else {
                continue;
            };
            if tag == "*" {
                any |= q > 0.0;
                continue;
            }
            let Some(language) = Language::from_tag(tag) else {
                continue;
            };
            if q == 0.0 {
                refused.push(language);
            } else if best.is_none_or(|(b, _)| q > b) {
                best = Some((q, language));
            }
        }
        match best {
            Some((_, language)) => language,
            None if any => Language::ALL
                .into_iter()
                .find(|l| !refused.contains(l))
                .unwrap_or(Language::DEFAULT),
            None => Language::DEFAULT,
        }
    }
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// One `tag;q=0.8` item: the tag and its weight, `None` when malformed.
fn parse_item(item: &str) -> Option<(&str, f32)> {
    let mut parts = item.split(';');
    let tag = parts.next()?.trim();
    if tag.is_empty() || tag.len() > 35 {
        return None;
    }
    let mut q = 1.0;
    for param in parts {
        let (name, value) = param.split_once('=')?;
        if name.trim().eq_ignore_ascii_case("q") {
            q = parse_q(value.trim())?;
        }
    }
    Some((tag, q))
}

/// A q-value: 0 to 1 with at most three decimals.
fn parse_q(text: &str) -> Option<f32> {
    let ok = !text.is_empty()
        && text.len() <= 5
        && text.bytes().all(|b| b.is_ascii_digit() || b == b'.');
    let q: f32 = text.parse().ok().filter(|_| ok)?;
    (0.0..=1.0).contains(&q).then_some(q)
}

macro_rules! messages {
    ($($(#[$doc:meta])* $variant:ident = $key:literal => [$en:literal, $pl:literal, $it:literal $(,)?],)*) => {
        /// A string shown on the contact-facing pages.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Msg {
            $($(#[$doc])* $variant,)*
        }

        impl Msg {
            /// Every message, in the catalog's order.
            pub const ALL: &'static [Msg] = &[$(Msg::$variant),*];

            /// The snake_case key; templates read the catalog as
            /// `{{ msg.<key> }}`.
            pub const fn key(self) -> &'static str {
                match self {
                    $(Msg::$variant => $key,)*
                }
            }

            /// The text in `language`.
            pub const fn text(self, language: Language) -> &'static str {
                let [en, pl, it] = match self {
                    $(Msg::$variant => [$en, $pl, $it],)*
                };
                match language {
                    Language::En => en,
                    Language::Pl => pl,
                    Language::It => it,
                }
            }
        }
    };
}

messages! {
    /// The form page's title.
    FormTitle = "form_title" => ["Your consents", "Twoje zgody", "I tuoi consensi"],
    /// The legend of the form's fieldset.
    FormLegend = "form_legend" => [
        "Choose what you agree to",
        "Wybierz, na co się zgadzasz",
        "Scegli a cosa acconsenti",
    ],
    /// The default form intro.
    FormIntro = "form_intro" => [
        "Tick each consent you give us. Untick one to withdraw it: that is as easy as giving it.",
        "Zaznacz każdą zgodę, której nam udzielasz. Odznacz zgodę, aby ją wycofać: to równie proste jak jej udzielenie.",
        "Spunta ogni consenso che ci dai. Togli la spunta per revocarlo: è facile quanto darlo.",
    ],
    /// Next to a consent already given.
    FormAlreadyGiven = "form_already_given" => [
        "You have given this consent.",
        "Ta zgoda jest udzielona.",
        "Hai dato questo consenso.",
    ],
    /// Next to a consent waiting for its email confirmation.
    FormAwaitingConfirmation = "form_awaiting_confirmation" => [
        "Waiting for your confirmation: please click the link in the email we sent you.",
        "Czeka na potwierdzenie: kliknij link w wiadomości, którą wysłaliśmy.",
        "In attesa di conferma: clicca il link nell'email che ti abbiamo inviato.",
    ],
    /// Next to a consent that needs an email confirmation.
    FormNeedsConfirmation = "form_needs_confirmation" => [
        "We will email you a link to confirm this consent.",
        "Wyślemy e-mail z linkiem do potwierdzenia tej zgody.",
        "Ti invieremo un'email con un link per confermare questo consenso.",
    ],
    /// The form's submit button.
    FormSubmit = "form_submit" => ["Save my choices", "Zapisz moje wybory", "Salva le mie scelte"],
    /// After the form was saved.
    FormSaved = "form_saved" => [
        "Thank you, your choices are saved.",
        "Dziękujemy, Twoje wybory zostały zapisane.",
        "Grazie, le tue scelte sono state salvate.",
    ],
    /// How long the form link works.
    FormValidUntil = "form_valid_until" => [
        "This link works until {date}.",
        "Ten link działa do {date}.",
        "Questo link funziona fino al {date}.",
    ],
    /// After a confirmation click.
    ConfirmDone = "confirm_done" => [
        "Thank you, your consent is confirmed.",
        "Dziękujemy, Twoja zgoda została potwierdzona.",
        "Grazie, il tuo consenso è confermato.",
    ],
    /// The preference centre's title (SuperOffice: "Manage subscriptions").
    PrefsTitle = "prefs_title" => [
        "Manage subscriptions",
        "Zarządzaj subskrypcjami",
        "Gestisci le iscrizioni",
    ],
    /// The heading of the subscriptions.
    PrefsSubscriptions = "prefs_subscriptions" => ["Subscriptions", "Subskrypcje", "Iscrizioni"],
    /// The heading of the consents.
    PrefsConsents = "prefs_consents" => ["Consents", "Zgody", "Consensi"],
    /// The button that subscribes to one list.
    PrefsOptIn = "prefs_opt_in" => ["Subscribe", "Zapisz się", "Iscriviti"],
    /// The button that unsubscribes from one list.
    PrefsOptOut = "prefs_opt_out" => ["Unsubscribe", "Wypisz się", "Annulla l'iscrizione"],
    /// The button that withdraws one consent.
    PrefsWithdraw = "prefs_withdraw" => ["Withdraw consent", "Wycofaj zgodę", "Revoca il consenso"],
    /// The one-click opt-out of everything.
    PrefsOptOutAll = "prefs_opt_out_all" => [
        "Unsubscribe from everything",
        "Wypisz mnie ze wszystkiego",
        "Annulla tutte le iscrizioni",
    ],
    /// Shown while opted out of everything.
    PrefsOptedOutAll = "prefs_opted_out_all" => [
        "You are unsubscribed from everything.",
        "Wypisano Cię ze wszystkich subskrypcji.",
        "Hai annullato tutte le iscrizioni.",
    ],
    /// The button that ends the opt-out of everything.
    PrefsResume = "prefs_resume" => [
        "Resume my subscriptions",
        "Przywróć moje subskrypcje",
        "Riattiva le mie iscrizioni",
    ],
    /// After a change in the preference centre.
    PrefsSaved = "prefs_saved" => [
        "Your change is saved.",
        "Zmiana została zapisana.",
        "La modifica è stata salvata.",
    ],
    /// A subscription the contact opted in to.
    StateOptedIn = "state_opted_in" => ["Subscribed", "Subskrybujesz", "Iscritto"],
    /// A subscription the contact opted out of.
    StateOptedOut = "state_opted_out" => ["Unsubscribed", "Wypisano", "Non iscritto"],
    /// A subscription the contact made no choice about.
    StateNotSpecified = "state_not_specified" => ["No choice made", "Nie wybrano", "Nessuna scelta"],
    /// A consent given (or renewed) and valid.
    StatusGiven = "status_given" => ["Given", "Udzielona", "Dato"],
    /// A consent waiting for its confirmation.
    StatusRequested = "status_requested" => [
        "Awaiting confirmation",
        "Czeka na potwierdzenie",
        "In attesa di conferma",
    ],
    /// A consent withdrawn, refused or revoked.
    StatusWithdrawn = "status_withdrawn" => ["Withdrawn", "Wycofana", "Revocato"],
    /// A consent past its validity.
    StatusExpired = "status_expired" => ["Expired", "Wygasła", "Scaduto"],
    /// The title of an error page.
    ErrorTitle = "error_title" => [
        "This link cannot be used",
        "Tego linku nie można użyć",
        "Questo link non può essere usato",
    ],
    /// An expired link.
    LinkExpired = "link_expired" => [
        "This link expired on {date}. Please ask us for a new one.",
        "Ten link wygasł {date}. Poproś nas o nowy.",
        "Questo link è scaduto il {date}. Chiedici un nuovo link.",
    ],
    /// A link cut short, changed, or not ours.
    LinkInvalid = "link_invalid" => [
        "This link is not valid: it may have been cut short or changed. Please ask us for a new one.",
        "Ten link jest nieprawidłowy: mógł zostać ucięty lub zmieniony. Poproś nas o nowy.",
        "Questo link non è valido: potrebbe essere stato troncato o modificato. Chiedici un nuovo link.",
    ],
    /// A link replaced by a newer one.
    LinkRevoked = "link_revoked" => [
        "This link was replaced by a newer one. Please use the most recent link we sent you.",
        "Ten link został zastąpiony nowszym. Użyj najnowszego linku od nas.",
        "Questo link è stato sostituito da uno più recente. Usa l'ultimo link che ti abbiamo inviato.",
    ],
    /// A form answer about a consent the link did not offer.
    ConsentNotOffered = "consent_not_offered" => [
        "This page cannot change that consent. Please reload the page and try again.",
        "Na tej stronie nie można zmienić tej zgody. Odśwież stronę i spróbuj ponownie.",
        "Questa pagina non può modificare quel consenso. Ricarica la pagina e riprova.",
    ],
    /// A confirmation link whose request was changed since.
    ConfirmationSuperseded = "confirmation_superseded" => [
        "This confirmation link is no longer needed: the consent was changed after we sent it.",
        "Ten link potwierdzający nie jest już potrzebny: zgoda została zmieniona po jego wysłaniu.",
        "Questo link di conferma non serve più: il consenso è stato modificato dopo l'invio.",
    ],
}

/// Every message in `language`, by key: what templates get as `msg`.
pub fn catalog(language: Language) -> BTreeMap<&'static str, &'static str> {
    Msg::ALL
        .iter()
        .map(|m| (m.key(), m.text(language)))
        .collect()
}

#[cfg(test)]
mod tests;
