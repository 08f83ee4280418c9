"""Fixed word lists for the NER corpus: things Faker does not generate, and the negatives.

Negatives (TV and film titles, channels, products, genres) are written into the text but never labelled:
the model must learn that "Barry" in "watched Barry on HBO" is a show, not a person. Titles are split into
a shared core (the ones real deid data carries, e.g. the seed channel events) plus extras per split, so the
held-out split also contains titles the model never saw.
"""

from __future__ import annotations

LOCALES: tuple[str, ...] = ("en_GB", "en_US", "de_DE", "fr_FR", "es_ES", "it_IT", "nl_NL", "pl_PL")
LOCALE_WEIGHTS: tuple[float, ...] = (0.18, 0.14, 0.13, 0.12, 0.11, 0.11, 0.11, 0.10)

# Courtesy titles written before a surname (never part of the PERSON span, as in OntoNotes/Presidio).
TITLES: dict[str, tuple[str, ...]] = {
    "en_GB": ("Mr", "Mrs", "Ms", "Miss", "Dr", "Mr.", "Mrs.", "Ms.", "Dr.", "Prof."),
    "en_US": ("Mr.", "Mrs.", "Ms.", "Dr.", "Prof.", "Miss"),
    "de_DE": ("Herr", "Frau", "Dr.", "Prof.", "Herrn"),
    "fr_FR": ("M.", "Mme", "Mme.", "Mlle", "Dr", "Monsieur", "Madame"),
    "es_ES": ("Sr.", "Sra.", "Srta.", "Don", "Doña", "Dr."),
    "it_IT": ("Sig.", "Sig.ra", "Dott.", "Dott.ssa", "Signor", "Signora"),
    "nl_NL": ("Dhr.", "Mevr.", "Meneer", "Mevrouw", "Dr."),
    "pl_PL": ("Pan", "Pani", "dr", "Pana", "Panią"),
}

REAL_CITIES: tuple[str, ...] = (
    "London", "Manchester", "Birmingham", "Leeds", "Bristol", "Liverpool", "Edinburgh", "Glasgow", "Cardiff",
    "Belfast", "Dublin", "Cork", "Galway", "Berlin", "Hamburg", "Munich", "München", "Köln", "Cologne",
    "Frankfurt", "Stuttgart", "Düsseldorf", "Leipzig", "Dresden", "Hannover", "Nürnberg", "Bremen", "Paris",
    "Lyon", "Marseille", "Toulouse", "Nice", "Bordeaux", "Lille", "Nantes", "Strasbourg", "Montpellier",
    "Rennes", "Madrid", "Barcelona", "Valencia", "Sevilla", "Seville", "Bilbao", "Málaga", "Zaragoza",
    "Granada", "Palma", "Rome", "Roma", "Milan", "Milano", "Naples", "Napoli", "Turin", "Torino", "Florence",
    "Firenze", "Bologna", "Venice", "Genoa", "Palermo", "Bari", "Verona", "Amsterdam", "Rotterdam",
    "The Hague", "Den Haag", "Utrecht", "Eindhoven", "Groningen", "Leiden", "Maastricht", "Warsaw",
    "Warszawa", "Kraków", "Krakow", "Łódź", "Wrocław", "Poznań", "Gdańsk", "Szczecin", "Lublin", "Lisbon",
    "Porto", "Brussels", "Antwerp", "Ghent", "Liège", "Vienna", "Wien", "Graz", "Salzburg", "Zurich",
    "Geneva", "Basel", "Bern", "Stockholm", "Gothenburg", "Copenhagen", "Aarhus", "Oslo", "Bergen",
    "Helsinki", "Prague", "Brno", "Budapest", "Bucharest", "Cluj-Napoca", "Sofia", "Athens", "Thessaloniki",
    "Zagreb", "Split", "Ljubljana", "Vilnius", "Riga", "Tallinn", "Luxembourg", "Valletta", "Bratislava",
    "New York", "Chicago", "Boston", "San Francisco", "Toronto", "Montreal", "Istanbul", "Marrakesh",
)  # fmt: skip

COUNTRIES: tuple[str, ...] = (
    "Germany", "France", "Spain", "Italy", "Portugal", "the Netherlands", "Netherlands", "Belgium",
    "Luxembourg", "Poland", "Austria", "Switzerland", "Ireland", "the United Kingdom", "United Kingdom", "UK",
    "England", "Scotland", "Wales", "Sweden", "Denmark", "Norway", "Finland", "Czechia", "Czech Republic",
    "Slovakia", "Hungary", "Romania", "Bulgaria", "Greece", "Croatia", "Slovenia", "Lithuania", "Latvia",
    "Estonia", "Malta", "Cyprus", "Ukraine", "Turkey", "Morocco", "the United States", "USA", "Canada",
    "Brazil", "India", "Japan", "Deutschland", "España", "Italia", "Polska", "Nederland",
)  # fmt: skip

NATIONALITIES: tuple[str, ...] = (
    "German", "French", "Spanish", "Italian", "Dutch", "Polish", "British", "English", "Scottish", "Welsh",
    "Irish", "Portuguese", "Belgian", "Austrian", "Swiss", "Swedish", "Danish", "Norwegian", "Finnish",
    "Czech", "Slovak", "Hungarian", "Romanian", "Bulgarian", "Greek", "Croatian", "Slovenian", "Lithuanian",
    "Latvian", "Estonian", "Ukrainian", "Turkish", "Moroccan", "Algerian", "Nigerian", "Indian",
    "Pakistani", "Chinese", "Japanese", "Brazilian", "American", "Canadian", "Mexican", "Syrian",
    "Catalan", "Basque", "Flemish", "Bavarian", "European",
)  # fmt: skip

NATIONALITY_NOUNS: tuple[str, ...] = (
    "Germans", "Poles", "Italians", "Spaniards", "Brits", "Americans", "Swedes", "Danes", "Greeks",
    "Romanians", "Ukrainians", "Turks", "Dutchman", "Frenchwoman", "Englishman",
)  # fmt: skip

RELIGIONS: tuple[str, ...] = (
    "Catholic", "Roman Catholic", "Protestant", "Muslim", "Jewish", "Buddhist", "Hindu", "Sikh", "Orthodox",
    "Christian", "Evangelical", "Lutheran", "Anglican", "Methodist", "Baptist", "Catholics", "Muslims",
    "Jews", "Christians",
)  # fmt: skip

POLITICAL_GROUPS: tuple[str, ...] = (
    "Social Democrats", "Christian Democrats", "Greens", "Liberals", "Conservatives", "Socialists",
    "Communists", "Republicans", "Democrats", "Tories", "Social Democrat", "Republican", "Democrat",
    "Conservative", "Green", "Liberal",
)  # fmt: skip

ORG_EXTRAS: tuple[str, ...] = (
    "Deutsche Bank", "BNP Paribas", "Banco Santander", "ING", "Rabobank", "PKO Bank Polski", "UniCredit",
    "Barclays", "HSBC", "Lloyds Bank", "Allianz", "AXA", "Siemens", "Bosch", "Philips", "Nestlé",
    "Carrefour", "Lidl", "Aldi", "Tesco", "Zalando", "Vodafone", "Orange", "Telefónica", "Deutsche Telekom",
    "KPN", "Play", "Ryanair", "Lufthansa", "KLM", "DHL", "PostNL", "La Poste", "Royal Mail", "InPost",
    "European Commission", "NHS", "Charité", "Universität Heidelberg", "Sorbonne University",
    "University of Warsaw", "Politecnico di Milano", "TU Delft", "Universidad Complutense", "Red Cross",
    "Médecins Sans Frontières", "Caritas", "Europol",
)  # fmt: skip

ORG_SUFFIXES: dict[str, tuple[str, ...]] = {
    "en_GB": ("Ltd", "plc", "Group", "Holdings", "& Sons"),
    "en_US": ("Inc.", "LLC", "Corp.", "Group", "& Co."),
    "de_DE": ("GmbH", "AG", "KG", "GmbH & Co. KG", "e.V."),
    "fr_FR": ("SA", "SARL", "SAS", "Groupe"),
    "es_ES": ("S.L.", "S.A.", "Grupo"),
    "it_IT": ("S.p.A.", "S.r.l.", "Gruppo"),
    "nl_NL": ("B.V.", "N.V.", "Groep"),
    "pl_PL": ("Sp. z o.o.", "S.A.", "Grupa"),
}

# Titles that read like person names: the mistake the original demo made ("Barry", "Andi Mack").
NAME_LIKE_TV_CORE: tuple[str, ...] = (
    "Barry", "Andi Mack", "Ted Lasso", "Hannah Montana", "Frasier", "Columbo", "Monk", "Dexter", "Seinfeld",
    "Roseanne", "Ally McBeal", "Veronica Mars", "Lucifer", "Sherlock", "Luther", "Wednesday",
)  # fmt: skip
NAME_LIKE_TV_TRAIN: tuple[str, ...] = (
    "Jessica Jones", "Luke Cage", "Sabrina", "Lizzie McGuire", "Murphy Brown", "Becker", "Matlock", "Kojak",
    "Magnum", "Doc Martin", "Maigret", "Wallander", "Montalbano", "Derrick", "Bosch", "Reacher", "Jack Ryan",
    "Loki", "Poldark", "Vera", "Marcella", "Lupin", "Emily in Paris", "Hank Zipzer", "Kim Possible",
    "Gilmore Girls", "Arthur", "Fleabag", "Miranda", "Dr. Quinn", "Jessie", "Zoey 101", "Anne with an E",
)  # fmt: skip
NAME_LIKE_TV_HELDOUT: tuple[str, ...] = (
    "Hawkeye", "Bones", "Rebus", "Bergerac", "Endeavour", "Martin", "Reba", "Raven", "Ellen", "Cheers",
    "Jane the Virgin", "Maude", "Moesha", "Ramy", "Atypical", "Daredevil",
)  # fmt: skip
OTHER_TV_TRAIN: tuple[str, ...] = (
    "9-1-1", "The Crown", "Breaking Bad", "Stranger Things", "Dark", "Money Heist", "The Office", "Friends",
    "Succession", "The Bear", "Severance", "Chernobyl", "Babylon Berlin", "Line of Duty", "Top Gear",
    "Bluey", "Peppa Pig", "Gomorrah", "Borgen", "The Bridge", "Call the Midwife", "Tatort", "Doctor Who",
    "Game of Thrones", "The Mandalorian", "Squid Game", "Black Mirror", "Mad Men", "Lost", "Euphoria",
    "Ozark", "Narcos", "Elite", "Vikings", "The Witcher", "Downton Abbey", "Peaky Blinders", "Gotham",
    "Miami Vice", "Chicago Fire", "Dallas", "Fargo", "Midsomer Murders", "Brooklyn Nine-Nine",
)  # fmt: skip
OTHER_TV_HELDOUT: tuple[str, ...] = (
    "The Wire", "Sopranos", "Shetland", "Happy Valley", "Broadchurch", "Dark Matter", "Skam", "La Casa de Papel",
    "The Killing", "Baptiste", "Slow Horses", "Derry Girls", "Paris Police 1900", "Berlin Station",
)  # fmt: skip

NAME_LIKE_FILMS_TRAIN: tuple[str, ...] = (
    "Forrest Gump", "Jerry Maguire", "Annie Hall", "Amélie", "Erin Brockovich", "Juno", "Rocky", "Hugo",
    "Carol", "Paddington", "Shrek", "Rebecca", "Matilda", "Jackie Brown", "Napoleon Dynamite", "Ray", "Ali",
    "Elvis", "Oppenheimer", "Joker", "Lincoln", "Judy", "Annie", "Michael Clayton", "Donnie Darko",
    "Billy Elliot", "Lady Bird", "Mary Poppins", "Coco", "Moana", "Alfie", "Patton",
)  # fmt: skip
NAME_LIKE_FILMS_HELDOUT: tuple[str, ...] = (
    "Frances Ha", "Harry Potter", "Bridget Jones's Diary", "Rudy", "Tár", "Gandhi", "Spencer", "Jackie",
)  # fmt: skip
OTHER_FILMS: tuple[str, ...] = (
    "Inception", "Titanic", "Casablanca", "Notting Hill", "In Bruges", "Manchester by the Sea", "Dune",
    "Parasite", "Toy Story", "Frozen", "The Matrix", "Jaws", "Alien", "Gladiator", "Up", "Barbie",
    "Interstellar", "The Godfather", "Good Bye Lenin!", "Run Lola Run", "Cinema Paradiso",
)  # fmt: skip

CHANNELS: tuple[str, ...] = (
    "Fox", "HBO", "BBC One", "BBC Two", "ITV", "Sky Atlantic", "Netflix", "Disney Channel", "Disney+",
    "Channel 4", "ZDF", "ARD", "TF1", "Canal+", "RAI 1", "RTL", "TVP1", "NPO 1", "La 1", "Antena 3",
    "Prime Video", "Arte", "ABC", "NBC", "CBS", "AMC", "Hulu", "Apple TV+", "Sky One", "Nickelodeon",
)  # fmt: skip

GENRES: tuple[str, ...] = (
    "Drama", "Comedy", "Thriller", "Documentary", "Kids", "Sitcom", "Crime", "Reality", "News", "Sports",
    "Animation", "Sci-Fi", "Horror", "Romance", "Action", "Family",
)  # fmt: skip

PRODUCTS: tuple[str, ...] = (
    "iPhone 15", "Galaxy S23", "Pixel 8", "ThinkPad X1 Carbon", "Kindle Paperwhite", "PlayStation 5",
    "Xbox Series X", "AirPods Pro", "Fire TV Stick", "Roku Express", "Nest Hub", "Echo Dot", "Surface Pro",
    "MacBook Air", "Fairphone 5", "Premium Plan", "Family Plan", "Sport Pack", "Movie Bundle", "Fibre 500",
    "Unlimited Max", "Smart Box", "TV Box 4K", "Gold Membership", "Basic Plan", "Kids Pack", "Router X3",
)  # fmt: skip

# Capitalised words that are also given names; they open sentences in the negative templates.
NAME_LIKE_WORDS: tuple[str, ...] = (
    "Will", "Hope", "Grace", "Faith", "Joy", "Mark", "Bill", "Rose", "Amber", "Summer", "Sky", "Art", "Chase",
    "Pat", "Sue", "Rob", "Frank", "June", "Victor", "Ray", "Dawn", "Holly", "Ivy", "Iris", "Guy",
)  # fmt: skip

TICKET_PREFIXES: tuple[str, ...] = ("TCK", "INC", "CASE", "SR", "ORD", "REQ", "CRM")
EMAIL_DOMAINS: tuple[str, ...] = (
    "gmail.com", "web.de", "gmx.de", "orange.fr", "libero.it", "wp.pl", "ziggo.nl", "hotmail.co.uk",
    "outlook.com", "yahoo.es", "example.org", "proton.me",
)  # fmt: skip

# Small English lemma table: Presidio's context enhancer compares context words with lemmas.
LEMMAS: dict[str, str] = {
    "numbers": "number", "phones": "phone", "cards": "card", "accounts": "account", "addresses": "address",
    "emails": "email", "names": "name", "dates": "date", "births": "birth", "licenses": "license",
    "licences": "licence", "passports": "passport", "called": "call", "calls": "call", "calling": "call",
    "lives": "live", "lived": "live", "living": "live", "born": "bear", "is": "be", "was": "be", "are": "be",
    "were": "be", "been": "be", "am": "be", "has": "have", "had": "have", "paid": "pay", "paying": "pay",
    "sent": "send", "moved": "move", "codes": "code", "ids": "id", "payments": "payment", "ibans": "iban",
}  # fmt: skip
