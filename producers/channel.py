"""`channel`: TV viewing events. About a quarter of the titles look like person names, as in real listings."""

from __future__ import annotations

from typing import Any

from producers.base import EventGenerator, rendered_days, uniform_picker, weighted_picker

# (channel, show, genre). Person-like titles ("Barry", "Andi Mack", "Ted Lasso", …) are not personal data:
# detection must learn that from the column, not from the look of one value.
SHOWS: tuple[tuple[str, str, str], ...] = (
    ("Fox", "9-1-1", "Drama"),
    ("HBO", "Barry", "Comedy"),
    ("CBS", "Blood & Treasure", "Action"),
    ("MTV", "Siesta Key", "Reality"),
    ("Disney Channel", "Andi Mack", "Comedy"),
    ("Apple TV+", "Ted Lasso", "Comedy"),
    ("Netflix", "Dark", "Thriller"),
    ("Netflix", "Money Heist", "Crime"),
    ("Netflix", "The Crown", "Drama"),
    ("AMC", "Breaking Bad", "Crime"),
    ("AMC", "Better Call Saul", "Crime"),
    ("NBC", "Frasier", "Comedy"),
    ("USA Network", "Monk", "Comedy"),
    ("NBC", "Columbo", "Crime"),
    ("Showtime", "Dexter", "Crime"),
    ("BBC One", "Sherlock", "Crime"),
    ("BBC One", "Luther", "Crime"),
    ("NBC", "Seinfeld", "Comedy"),
    ("ABC", "Roseanne", "Comedy"),
    ("Disney Channel", "Hannah Montana", "Comedy"),
    ("Disney Channel", "Lizzie McGuire", "Comedy"),
    ("Netflix", "Jessica Jones", "Action"),
    ("Netflix", "Luke Cage", "Action"),
    ("UPN", "Veronica Mars", "Crime"),
    ("Fox", "Ally McBeal", "Comedy"),
    ("ITV", "Doc Martin", "Comedy"),
    ("ITV", "Vera", "Crime"),
    ("ZDF", "Derrick", "Crime"),
    ("SVT", "Wallander", "Crime"),
    ("Rai 1", "Il commissario Montalbano", "Crime"),
    ("Rai 1", "Don Matteo", "Drama"),
    ("France 2", "Maigret", "Crime"),
    ("HBO", "Succession", "Drama"),
    ("HBO", "The Last of Us", "Drama"),
    ("HBO", "Game of Thrones", "Fantasy"),
    ("Netflix", "Stranger Things", "Sci-Fi"),
    ("Netflix", "Lupin", "Crime"),
    ("Netflix", "Emily in Paris", "Comedy"),
    ("Amazon Prime", "The Boys", "Action"),
    ("Amazon Prime", "Jack Ryan", "Action"),
    ("Amazon Prime", "Bosch", "Crime"),
    ("ARD", "Tatort", "Crime"),
    ("ARD", "Babylon Berlin", "Drama"),
    ("BBC Two", "Top Gear", "Entertainment"),
    ("BBC One", "Doctor Who", "Sci-Fi"),
    ("Canal+", "Le Bureau des Légendes", "Thriller"),
    ("TVE", "La Casa de Papel", "Crime"),
    ("TVP", "Ranczo", "Comedy"),
    ("NPO 1", "Flikken Maastricht", "Crime"),
    ("CBS", "Survivor", "Reality"),
    ("Bravo", "Below Deck", "Reality"),
    ("Fox", "The Simpsons", "Animation"),
    ("Comedy Central", "South Park", "Animation"),
    ("Discovery", "Deadliest Catch", "Documentary"),
    ("National Geographic", "Life Below Zero", "Documentary"),
    ("Nickelodeon", "SpongeBob SquarePants", "Animation"),
)


class ChannelGenerator(EventGenerator):
    domain_name = "channel"

    def setup(self) -> None:
        self.pick_show = weighted_picker(self.rng, SHOWS, skew=0.8)
        self.pick_user = uniform_picker(self.rng, self.user_ids())
        self.pick_day = uniform_picker(self.rng, rendered_days(self.date_format("date")))

    def event(self) -> dict[str, Any]:
        channel, show, genre = self.pick_show()
        return {
            "channel_name": channel,
            "tv_show": show,
            "tv_show_type": genre,
            "date": self.pick_day(),
            "user_id": self.pick_user(),
        }
