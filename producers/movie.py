"""`movie`: movie purchases paid by card (15-digit AmEx-style numbers that pass the Luhn test)."""

from __future__ import annotations

import random
from typing import Any

from producers.base import EventGenerator, luhn_check_digit, rendered_days, uniform_picker, weighted_picker

# (title, genre). Several titles are first names or full names and are still not personal data.
MOVIES: tuple[tuple[str, str], ...] = (
    ("Amélie", "Comedy"),
    ("Forrest Gump", "Drama"),
    ("Annie Hall", "Comedy"),
    ("Jerry Maguire", "Drama"),
    ("Erin Brockovich", "Drama"),
    ("Juno", "Comedy"),
    ("Lucy", "Action"),
    ("Carol", "Romance"),
    ("Rocky", "Drama"),
    ("Matilda", "Family"),
    ("Joker", "Thriller"),
    ("Ray", "Biography"),
    ("Oppenheimer", "Biography"),
    ("Napoleon", "History"),
    ("Jackie Brown", "Crime"),
    ("Billy Elliot", "Drama"),
    ("Paddington", "Family"),
    ("Shrek", "Animation"),
    ("Inception", "Sci-Fi"),
    ("Parasite", "Thriller"),
    ("The Godfather", "Crime"),
    ("Pulp Fiction", "Crime"),
    ("Spirited Away", "Animation"),
    ("Dune", "Sci-Fi"),
    ("Interstellar", "Sci-Fi"),
    ("Das Boot", "War"),
    ("Good Bye, Lenin!", "Comedy"),
    ("Cinema Paradiso", "Drama"),
    ("La Haine", "Drama"),
    ("Intouchables", "Comedy"),
    ("Pan's Labyrinth", "Fantasy"),
    ("Toni Erdmann", "Comedy"),
    ("The Lives of Others", "Thriller"),
    ("Barbie", "Comedy"),
    ("Frozen", "Animation"),
    ("Titanic", "Romance"),
    ("Gladiator", "Action"),
    ("Mad Max: Fury Road", "Action"),
    ("Everything Everywhere All at Once", "Sci-Fi"),
    ("Past Lives", "Romance"),
)
PRICES = (2.99, 3.99, 4.99, 5.99, 7.99, 9.99, 12.99, 14.99, 19.99)
AMEX_PREFIXES = ("34", "37")


def amex_number(rng: random.Random) -> str:
    """A 15-digit AmEx-style card number (34/37 prefix) with a valid Luhn check digit."""
    payload = rng.choice(AMEX_PREFIXES) + f"{rng.randrange(10**12):012d}"
    return payload + luhn_check_digit(payload)


class MovieGenerator(EventGenerator):
    domain_name = "movie"

    def setup(self) -> None:
        self.pick_movie = weighted_picker(self.rng, MOVIES, skew=0.7)
        self.price_of = {title: self.rng.choice(PRICES) for title, _ in MOVIES}
        users = self.user_ids()
        # Each customer pays with one card, a few with two.
        cards = {user: [amex_number(self.rng)] for user in users}
        for user in self.rng.sample(users, len(users) // 5):
            cards[user].append(amex_number(self.rng))
        self.pick_card = {user: uniform_picker(self.rng, numbers) for user, numbers in cards.items()}
        self.pick_user = uniform_picker(self.rng, users)
        self.pick_day = uniform_picker(self.rng, rendered_days(self.date_format("purchase_date")))

    def event(self) -> dict[str, Any]:
        title, genre = self.pick_movie()
        user = self.pick_user()
        return {
            "movie_name": title,
            "movie_type": genre,
            "purchase_date": self.pick_day(),
            "user_id": user,
            "price": self.price_of[title],
            "card_number": self.pick_card[user](),
        }
