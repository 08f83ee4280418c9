"""Fixed word lists for the NER corpus: things Faker does not generate, and the negatives.

Negatives (TV and film titles, channels, products, genres) are written into the text but never labelled:
the model must learn that "Barry" in "watched Barry on HBO" is a show, not a person. Titles are split per
split, so the held-out split contains titles the model never saw; none is a demo, producer, test or
evaluation title (a test checks it).
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

# Titles that read like person names: the mistake the original demo made. None of these is a title of the
# demo, the producers, the tests or the independent evaluation set (tests/unit/test_eval_leakage.py): the
# demo's "Barry is a show" answer must come from the field's structure, not from having seen the title.
NAME_LIKE_TV_TRAIN: tuple[str, ...] = (
    "Sabrina", "Murphy Brown", "Matlock", "Kojak", "Magnum", "Montalbano", "Reacher", "Loki", "Poldark",
    "Marcella", "Hank Zipzer", "Kim Possible", "Gilmore Girls", "Arthur", "Fleabag", "Miranda", "Dr. Quinn",
    "Jessie", "Zoey 101", "Anne with an E", "Ironside", "Quincy", "Rhoda", "Benson", "Webster",
    "Punky Brewster", "Blossom", "Hazel", "Petrocelli", "Banacek", "Barnaby Jones", "Hart to Hart",
    "Mannix", "Baretta", "Kolchak", "Dangerfield", "Pulaski", "Boon", "Van der Valk", "Schimanski", "Stubbe",
    "Navarro", "Julie Lescaut", "Nestor Burma", "Louis la Brocante", "Capitaine Marleau", "Candice Renoir",
    "Astrid et Raphaëlle", "Fireman Sam", "Postman Pat", "Noddy", "Caillou", "Ojciec Mateusz", "Rita",
)  # fmt: skip
NAME_LIKE_TV_HELDOUT: tuple[str, ...] = (
    "Hawkeye", "Bones", "Rebus", "Bergerac", "Endeavour", "Reba", "Raven", "Ellen", "Cheers",
    "Jane the Virgin", "Maude", "Moesha", "Ramy", "Atypical", "Daredevil",
)  # fmt: skip
OTHER_TV_TRAIN: tuple[str, ...] = (
    "Friends", "The Bear", "Severance", "Chernobyl", "Line of Duty", "Bluey", "Peppa Pig", "Gomorrah",
    "The Bridge", "Call the Midwife", "The Mandalorian", "Squid Game", "Black Mirror", "Mad Men", "Lost",
    "Euphoria", "Ozark", "Narcos", "Elite", "Vikings", "The Witcher", "Downton Abbey", "Peaky Blinders",
    "Gotham", "Miami Vice", "Chicago Fire", "Dallas", "Fargo", "Midsomer Murders", "Brooklyn Nine-Nine",
    "Spiral", "Engrenages", "The Tunnel", "Bodyguard", "Utopia", "Skins", "Misfits", "Sherwood", "Industry",
    "Suburra", "Deutschland 83", "Unorthodox", "Call My Agent!", "Les Revenants", "Forbrydelsen",
    "Follow the Money", "Occupied", "Trapped", "Beforeigners", "Mammon", "Emmerdale", "EastEnders",
    "Hollyoaks", "Neighbours", "Home and Away", "Mocro Maffia", "Klan", "M jak miłość",
)  # fmt: skip
OTHER_TV_HELDOUT: tuple[str, ...] = (
    "The Wire", "Sopranos", "Shetland", "Happy Valley", "Broadchurch", "Dark Matter", "Skam",
    "The Killing", "Baptiste", "Slow Horses", "Derry Girls", "Paris Police 1900", "Berlin Station",
)  # fmt: skip

NAME_LIKE_FILMS_TRAIN: tuple[str, ...] = (
    "Hugo", "Rebecca", "Mr. Deeds", "Ali", "Elvis", "Lincoln", "Judy", "Annie", "Michael Clayton",
    "Donnie Darko", "Lady Bird", "Mary Poppins", "Coco", "Moana", "Alfie", "Patton", "Amadeus", "Marty",
    "Laura", "Gilda", "Harvey", "Shane", "Tootsie", "Mrs. Doubtfire", "Edward Scissorhands",
    "Thelma & Louise", "Bonnie and Clyde", "Jules et Jim", "Fanny and Alexander", "Zorba the Greek",
    "Muriel's Wedding", "Nanny McPhee", "Mary and Max", "Ed Wood", "Johnny English", "Kramer vs. Kramer",
    "Bernie", "Jojo Rabbit", "Frida",
)  # fmt: skip
NAME_LIKE_FILMS_HELDOUT: tuple[str, ...] = (
    "Frances Ha", "Harry Potter", "Bridget Jones's Diary", "Rudy", "Tár", "Gandhi", "Spencer", "Jackie",
)  # fmt: skip
OTHER_FILMS: tuple[str, ...] = (
    "Casablanca", "Notting Hill", "In Bruges", "Manchester by the Sea", "Toy Story", "The Matrix", "Jaws",
    "Alien", "Up", "Good Bye Lenin!", "Run Lola Run", "Vertigo", "Psycho", "Amour", "Whiplash",
    "Arrival", "Memento", "Goodfellas", "Jurassic Park", "Skyfall", "Ratatouille", "Wall-E",
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
    "Pat", "Sue", "Rob", "Frank", "June", "Victor", "Dawn", "Holly", "Ivy", "Iris", "Guy",
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
