//! The word lists the rule-based analysis reads: topic keywords (which
//! become tags), the verbs and phrases that make a thought a task, a
//! reminder, a question, an idea or a journal entry, and the words that say
//! how urgent or how it feels. Data only; the rules are in `classify` and
//! `suggest`.

/// A topic tag and the words (already folded: lowercase, no accents) that
/// suggest it. A word matches a text word equal to it; entries with a space
/// match that phrase.
#[rustfmt::skip]
pub(super) const TOPICS: &[(&str, &[&str])] = &[
    ("work", &[
        "meeting", "client", "clients", "boss", "manager", "colleague", "coworker", "office", "deadline", "report",
        "presentation", "slides", "standup", "sprint", "roadmap", "customer", "proposal", "quarterly", "okr", "okrs",
        "review", "deploy", "release", "jira", "team", "stakeholders", "onboarding",
    ]),
    ("health", &[
        "doctor", "dentist", "gym", "workout", "exercise", "run", "running", "yoga", "medication", "medicine",
        "pills", "prescription", "therapy", "therapist", "sleep", "diet", "vitamins", "checkup", "hospital", "physio",
        "appointment",
    ]),
    ("family", &[
        "mom", "mum", "dad", "mother", "father", "parents", "kids", "kid", "son", "daughter", "sister", "brother",
        "wife", "husband", "grandma", "grandpa", "family", "aunt", "uncle", "cousin", "baby",
    ]),
    ("finance", &[
        "pay", "bill", "bills", "rent", "tax", "taxes", "bank", "invoice", "invoices", "budget", "salary", "mortgage",
        "insurance", "loan", "refund", "expenses", "savings", "invest", "credit", "debt",
    ]),
    ("shopping", &[
        "buy", "groceries", "grocery", "milk", "eggs", "bread", "supermarket", "order", "amazon", "shop", "shopping",
        "store", "pick up",
    ]),
    ("home", &[
        "clean", "cleaning", "laundry", "dishes", "vacuum", "repair", "plumber", "garden", "lawn", "furniture",
        "kitchen", "garage", "landlord", "house", "apartment", "fix the",
    ]),
    ("travel", &[
        "flight", "flights", "hotel", "trip", "passport", "visa", "vacation", "holiday", "airport", "train",
        "luggage", "itinerary", "booking",
    ]),
    ("learning", &[
        "learn", "learning", "study", "course", "book", "books", "read", "reading", "tutorial", "class", "lecture",
        "podcast", "article", "paper", "language",
    ]),
    ("social", &[
        "party", "birthday", "dinner", "friends", "friend", "wedding", "drinks", "lunch", "invite", "gift",
        "anniversary",
    ]),
    ("tech", &[
        "code", "bug", "server", "database", "api", "laptop", "computer", "software", "app", "backup", "password",
        "github", "rust",
    ]),
];

/// Verbs that open a to-do ("call the bank").
#[rustfmt::skip]
pub(super) const ACTION_VERBS: &[&str] = &[
    "call", "email", "text", "message", "phone", "buy", "pick", "get", "fix", "send", "write", "schedule", "book",
    "pay", "finish", "prepare", "review", "clean", "cancel", "renew", "submit", "file", "order", "return", "update",
    "check", "ask", "tell", "reply", "respond", "follow", "organize", "organise", "plan", "make", "draft", "print",
    "sign", "register", "apply", "install", "set", "move", "bring", "visit", "meet", "contact", "reach", "confirm",
    "arrange", "replace", "repair", "wash", "mail", "post", "deliver", "collect", "research", "read", "study",
    "practice", "water", "feed", "take", "do", "start", "complete", "clear", "backup", "deploy", "refactor",
    "migrate", "test", "invite", "remind", "research", "compare", "choose", "decide", "try",
];

/// Phrases that mark an obligation anywhere in a thought ("… so I need to …").
#[rustfmt::skip]
pub(super) const OBLIGATIONS: &[&str] = &[
    "need to", "needs to", "have to", "has to", "must", "gotta", "got to", "should", "ought to", "todo",
];

/// Lead-ins a to-do opens with, longest first: the title starts after them.
#[rustfmt::skip]
pub(super) const LEAD_INS: &[&str] = &[
    "i really need to", "i need to", "we need to", "i have to", "we have to", "i've got to", "i ought to", "i must",
    "we must", "i should", "we should", "i gotta", "need to", "have to", "must", "should", "gotta", "to-do", "to do",
    "todo", "task", "please", "urgent", "asap", "important", "someday", "eventually",
];

/// Phrases that make a thought a reminder; the title starts after them.
#[rustfmt::skip]
pub(super) const REMINDERS: &[&str] = &[
    "remind me to", "remind me", "don't forget to", "dont forget to", "do not forget to", "don't forget",
    "dont forget", "remember to", "reminder", "note to self",
];

/// Words a question may open with.
#[rustfmt::skip]
pub(super) const QUESTION_OPENERS: &[&str] = &[
    "what", "why", "how", "when", "where", "who", "which", "whom", "whose", "is", "are", "am", "do", "does", "did",
    "can", "could", "would", "will", "shall", "should", "may", "might", "wonder", "wondering",
];

/// Phrases that mark an idea.
#[rustfmt::skip]
pub(super) const IDEAS: &[&str] = &[
    "idea", "ideas", "what if", "maybe we could", "maybe i could", "it would be cool", "it'd be cool",
    "would be nice", "wouldn't it be", "concept", "brainstorm", "imagine", "startup", "side project", "an app that",
    "could build", "invention", "pitch",
];

/// Phrases that mark a journal entry: about the writer's day and feelings.
#[rustfmt::skip]
pub(super) const JOURNAL: &[&str] = &[
    "today i", "i feel", "i felt", "i'm feeling", "im feeling", "i am feeling", "feeling", "grateful", "thankful",
    "dear diary", "had a great", "had a good", "had a rough", "had a bad", "had a long", "this morning i",
    "tonight i", "yesterday i", "i realized", "i realised", "i learned", "i noticed", "i was", "mood",
];

/// Words that make something urgent.
#[rustfmt::skip]
pub(super) const URGENT: &[&str] = &[
    "urgent", "urgently", "asap", "immediately", "emergency", "critical", "now", "right away", "overdue", "tonight",
];

/// Words that make something important (high priority, not necessarily urgent).
#[rustfmt::skip]
pub(super) const IMPORTANT: &[&str] = &[
    "important", "priority", "crucial", "essential", "must", "deadline",
];

/// Words with a positive feeling.
#[rustfmt::skip]
pub(super) const POSITIVE: &[&str] = &[
    "happy", "great", "good", "love", "excited", "grateful", "thankful", "glad", "proud", "awesome", "amazing",
    "wonderful", "fun", "enjoyed", "relaxed", "calm", "win", "success", "celebrate", "nice", "fantastic",
];

/// Words with a negative feeling.
#[rustfmt::skip]
pub(super) const NEGATIVE: &[&str] = &[
    "sad", "angry", "stressed", "stress", "anxious", "worried", "worry", "tired", "exhausted", "frustrated", "upset",
    "bad", "awful", "terrible", "hate", "annoyed", "overwhelmed", "sick", "lonely", "scared", "afraid", "depressed",
    "burned", "burnt", "rough",
];

/// Words too common to say what a thought is about (for related-thought search).
#[rustfmt::skip]
pub(super) const STOPWORDS: &[&str] = &[
    "the", "and", "for", "that", "this", "with", "from", "have", "need", "should", "must", "about", "into", "they",
    "them", "their", "there", "then", "than", "what", "when", "where", "which", "while", "would", "could", "will",
    "just", "really", "some", "something", "maybe", "remember", "remind", "dont", "don", "forget", "today",
    "tomorrow", "tonight", "week", "next", "also", "been", "were", "your", "yours", "mine", "ours", "very", "more",
    "most", "make", "sure", "gotta", "want", "like", "idea", "note", "thing", "things", "todo", "does", "didn",
    "doesn", "cant", "can", "feel", "felt", "feeling", "after", "before", "again", "still", "only", "over", "because",
    "being", "other", "these", "those", "here", "each", "every", "monday", "tuesday", "wednesday", "thursday",
    "friday", "saturday", "sunday",
];

/// Minutes a to-do opened by `verb` usually takes.
pub(super) fn effort_minutes(verb: &str) -> i32 {
    match verb {
        "call" | "text" | "message" | "phone" | "email" | "reply" | "respond" | "ask" | "tell" | "confirm" | "pay"
        | "renew" | "sign" | "remind" | "water" | "feed" | "mail" | "post" | "check" | "contact" => 15,
        "buy" | "pick" | "get" | "order" | "return" | "book" | "schedule" | "cancel" | "submit" | "send"
        | "register" | "print" | "bring" | "collect" | "deliver" | "set" | "invite" | "arrange" | "wash" => 30,
        "write" | "prepare" | "review" | "draft" | "clean" | "organize" | "organise" | "plan" | "read" | "research"
        | "compare" | "update" | "file" | "apply" | "practice" | "study" | "install" | "test" => 60,
        "fix" | "repair" | "build" | "migrate" | "refactor" | "deploy" | "move" | "replace" | "finish" | "complete" => {
            120
        }
        _ => 30,
    }
}
