"""The tastes a world is made of: each theme has categories from the catalogue taxonomy, things
to sell, words for names and captions, colours, and the variants its products come in."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Theme:
    """One kind of shop and one kind of taste: a shopper who loves cooking watches cooking."""

    key: str
    label: str
    # (taxonomy category id, product noun, option name, option values, price range in cents)
    goods: tuple[tuple[int, str, str, tuple[str, ...], tuple[int, int]], ...]
    adjectives: tuple[str, ...]
    hashtags: tuple[str, ...]
    shop_words: tuple[str, ...]
    colours: tuple[tuple[int, int, int], ...]
    lines: tuple[str, ...]  # caption openers


SIZES = ("S", "M", "L", "XL")
SHOE_SIZES = ("38", "39", "40", "41", "42", "43")

THEMES: tuple[Theme, ...] = (
    Theme(
        "cooking", "Cooking",
        (
            (654, "Cast Iron Skillet", "Size", ("20 cm", "26 cm", "30 cm"), (2900, 6900)),
            (654, "Dutch Oven", "Colour", ("Cherry", "Sage", "Cream"), (5900, 14900)),
            (668, "Chef's Knife", "Blade", ("18 cm", "21 cm"), (3900, 12900)),
            (668, "Olive Wood Spoon Set", "Pieces", ("3", "5"), (1500, 3200)),
            (674, "Stoneware Bowl Set", "Colour", ("Speckled", "Charcoal"), (2800, 6400)),
            (2660, "Smoked Paprika Jar", "Size", ("100 g", "250 g"), (700, 1600)),
            (736, "Pour-Over Coffee Kit", "Finish", ("Glass", "Copper"), (3400, 7900)),
        ),
        ("Everyday", "Heritage", "Rustic", "Pro", "Kitchen", "Sunday"),
        ("cooking", "recipe", "homecook", "kitchen", "foodtok"),
        ("Kitchen", "Pantry", "Cookhouse", "Table"),
        ((196, 69, 54), (224, 122, 95), (129, 178, 154), (242, 204, 143)),
        ("Dinner in 15 minutes with", "The one pan I use daily:", "Sunday batch cooking with"),
    ),
    Theme(
        "fitness", "Fitness",
        (
            (3276, "Yoga Mat", "Colour", ("Lilac", "Ocean", "Stone"), (2500, 7900)),
            (6337, "Adjustable Dumbbell", "Weight", ("10 kg", "20 kg"), (4900, 19900)),
            (5378, "High-Waist Leggings", "Size", SIZES, (2900, 6900)),
            (5322, "Training Tank", "Size", SIZES, (1800, 3900)),
            (6070, "Insulated Bottle", "Volume", ("500 ml", "750 ml", "1 l"), (1900, 3900)),
            (999, "Resistance Band Set", "Level", ("Light", "Heavy"), (1200, 2900)),
        ),
        ("Core", "Flow", "Peak", "Studio", "Daily", "Power"),
        ("fitness", "workout", "gymtok", "yoga", "homegym"),
        ("Fitness", "Athletics", "Movement", "Studio"),
        ((61, 90, 254), (0, 180, 216), (239, 71, 111), (6, 214, 160)),
        ("20-minute workout with", "My warm-up starts with", "Leg day essentials:"),
    ),
    Theme(
        "beauty", "Beauty",
        (
            (478, "Tinted Lip Balm", "Shade", ("Rose", "Berry", "Nude"), (900, 2400)),
            (481, "Daily Moisturiser", "Size", ("50 ml", "100 ml"), (1800, 4800)),
            (6791, "Gentle Cleanser", "Size", ("150 ml", "300 ml"), (1400, 3200)),
            (477, "Cream Blush", "Shade", ("Peach", "Coral", "Plum"), (1600, 3400)),
            (171, "Silk Scrunchie Set", "Colour", ("Blush", "Ivory", "Black"), (900, 2200)),
        ),
        ("Glow", "Dewy", "Velvet", "Pure", "Soft", "Bloom"),
        ("skincare", "makeup", "grwm", "beautytok", "glowup"),
        ("Beauty", "Glow Lab", "Skin Studio", "Bloom"),
        ((255, 175, 204), (205, 180, 219), (255, 200, 221), (231, 111, 81)),
        ("Get ready with me:", "My 3-step routine uses", "Morning glow with"),
    ),
    Theme(
        "fashion", "Fashion",
        (
            (7288, "Boxy Cotton Tee", "Size", SIZES, (1500, 3500)),
            (7289, "Oversized Hoodie", "Size", SIZES, (3900, 7900)),
            (2271, "Linen Midi Dress", "Size", SIZES, (4900, 11900)),
            (5598, "Cropped Denim Jacket", "Size", SIZES, (5900, 12900)),
            (3032, "Mini Crossbody Bag", "Colour", ("Black", "Tan", "Olive"), (2900, 8900)),
            (173, "Knit Beanie", "Colour", ("Oat", "Rust", "Forest"), (1200, 2900)),
        ),
        ("Everyday", "Studio", "Weekend", "City", "Vintage", "Classic"),
        ("ootd", "fashion", "style", "outfitideas", "streetwear"),
        ("Wardrobe", "Thread", "Atelier", "Closet"),
        ((38, 70, 83), (233, 196, 106), (244, 162, 97), (120, 90, 140)),
        ("Outfit of the day:", "Three ways to wear", "Styling the new"),
    ),
    Theme(
        "tech", "Tech",
        (
            (543626, "Wireless Headphones", "Colour", ("Graphite", "Sand"), (5900, 24900)),
            (249, "Pocket Speaker", "Colour", ("Black", "Coral", "Teal"), (2900, 8900)),
            (7166, "Slim Power Bank", "Capacity", ("10,000 mAh", "20,000 mAh"), (2500, 5900)),
            (1928, "Mechanical Keyboard", "Switches", ("Brown", "Red", "Silent"), (6900, 15900)),
            (2353, "Clear Phone Case", "Model", ("Small", "Pro", "Max"), (1500, 3500)),
            (3356, "Fitness Watch", "Strap", ("Black", "Sage"), (7900, 19900)),
        ),
        ("Nova", "Pulse", "Orbit", "Flux", "Echo", "Volt"),
        ("tech", "gadgets", "desksetup", "techtok", "unboxing"),
        ("Electronics", "Gadget Lab", "Tech Supply", "Circuit"),
        ((52, 58, 64), (0, 119, 182), (114, 9, 183), (72, 202, 228)),
        ("Unboxing the", "Desk upgrade:", "Is it worth it?"),
    ),
    Theme(
        "home", "Home",
        (
            (3840, "Soy Candle", "Scent", ("Fig & Cedar", "Sea Salt", "Amber"), (1400, 3400)),
            (6552001, "Linen Throw Pillow", "Colour", ("Oat", "Clay", "Moss"), (2200, 4900)),
            (602, "Ceramic Bud Vase", "Glaze", ("Matte White", "Sand"), (1800, 4200)),
            (2956, "Mushroom Table Lamp", "Colour", ("Cream", "Amber"), (4900, 12900)),
            (2700, "Waffle Knit Blanket", "Colour", ("Stone", "Rose"), (4500, 9900)),
        ),
        ("Cosy", "Nordic", "Slow", "Haven", "Nest", "Calm"),
        ("homedecor", "cosyhome", "interior", "hometok", "roomtour"),
        ("Home", "House", "Living", "Nest"),
        ((142, 110, 83), (221, 161, 94), (188, 108, 37), (96, 108, 56)),
        ("Room refresh with", "The cosiest corner:", "Small changes, big mood:"),
    ),
    Theme(
        "plants", "Plants & Garden",
        (
            (5590, "Monstera Deliciosa", "Pot", ("Terracotta", "White"), (2500, 6900)),
            (5590, "Snake Plant", "Height", ("40 cm", "70 cm"), (1900, 4900)),
            (2988, "Self-Watering Planter", "Size", ("Small", "Large"), (1500, 3900)),
            (2962, "Pruning Shears", "Grip", ("Green", "Orange"), (1800, 3600)),
            (5590, "Fiddle Leaf Fig", "Height", ("60 cm", "120 cm"), (3900, 9900)),
        ),
        ("Jungle", "Green", "Leafy", "Urban", "Wild", "Fern"),
        ("planttok", "plants", "urbanjungle", "gardening", "plantcare"),
        ("Greenhouse", "Plant Co", "Garden", "Botanics"),
        ((64, 145, 108), (82, 183, 136), (45, 106, 79), (149, 213, 178)),
        ("Repotting my", "Plant care 101:", "The easiest plant you can own:"),
    ),
    Theme(
        "outdoor", "Outdoor",
        (
            (100, "Trail Backpack", "Colour", ("Olive", "Navy", "Rust"), (4900, 12900)),
            (1023, "Two-Person Tent", "Colour", ("Green", "Sand"), (9900, 29900)),
            (1013, "Camp Mug", "Colour", ("Enamel Blue", "Cream"), (1200, 2400)),
            (7302, "Hiking Boots", "Size", SHOE_SIZES, (8900, 17900)),
            (1025, "Bike Light Set", "Brightness", ("400 lm", "800 lm"), (1900, 4900)),
        ),
        ("Summit", "Ridge", "Trail", "Alpine", "Basecamp", "Wander"),
        ("hiking", "outdoors", "camping", "vanlife", "adventure"),
        ("Outfitters", "Trail Supply", "Outdoor Co", "Basecamp"),
        ((96, 108, 56), (40, 54, 24), (221, 161, 94), (69, 123, 157)),
        ("Packing list for", "Weekend in the hills with", "Tested on the trail:"),
    ),
    Theme(
        "pets", "Pets",
        (
            (371, "Rope Tug Toy", "Size", ("Small", "Large"), (800, 1900)),
            (4434, "Calming Dog Bed", "Size", ("M", "L", "XL"), (3900, 8900)),
            (3530, "Feather Cat Wand", "Colour", ("Rainbow", "Natural"), (700, 1600)),
            (6252, "Padded Harness", "Size", ("S", "M", "L"), (1900, 3900)),
            (6383, "Grooming Brush", "Type", ("Short Coat", "Long Coat"), (1200, 2600)),
        ),
        ("Happy", "Cosy", "Playful", "Waggy", "Purr", "Paws"),
        ("dogsoftiktok", "catsoftiktok", "pets", "puppy", "petcare"),
        ("Pet Supply", "Paws", "Pet Co", "Tails"),
        ((244, 162, 97), (233, 196, 106), (231, 111, 81), (42, 157, 143)),
        ("My dog's favourite:", "Cat approved:", "Walk time with"),
    ),
    Theme(
        "books", "Books & Stationery",
        (
            (957, "Dotted Notebook", "Cover", ("Coral", "Sage", "Ink"), (900, 2400)),
            (978, "Fineliner Set", "Pieces", ("6", "12", "24"), (1200, 3600)),
            (543541, "Illustrated Cookbook", "Format", ("Hardback", "Paperback"), (1800, 3900)),
            (6174, "Leather Bookmark", "Colour", ("Tan", "Black"), (600, 1500)),
            (543541, "Pocket Poetry Book", "Format", ("Hardback", "Paperback"), (1200, 2600)),
        ),
        ("Paper", "Margin", "Ink", "Chapter", "Quiet", "Folio"),
        ("booktok", "stationery", "journaling", "reading", "studywithme"),
        ("Books", "Paper Co", "Stationers", "Library"),
        ((42, 157, 143), (38, 70, 83), (233, 196, 106), (231, 111, 81)),
        ("What I'm reading:", "Journal with me:", "My study desk has"),
    ),
    Theme(
        "toys", "Toys & Games",
        (
            (1246, "Family Board Game", "Edition", ("Classic", "Travel"), (1900, 4900)),
            (3867, "1000-Piece Puzzle", "Picture", ("Mountains", "Harbour"), (1500, 2900)),
            (3731, "Magnetic Building Tiles", "Pieces", ("60", "120"), (2900, 7900)),
            (1261, "Plush Bunny", "Size", ("Small", "Large"), (1400, 3200)),
            (6853, "Party Card Game", "Edition", ("Original", "Expansion"), (1200, 2400)),
        ),
        ("Jolly", "Bright", "Tiny", "Clever", "Happy", "Wonder"),
        ("toys", "boardgames", "familytime", "gamenight", "kidsactivities"),
        ("Toy Box", "Games", "Playroom", "Fun Co"),
        ((255, 190, 11), (251, 86, 7), (255, 0, 110), (58, 134, 255)),
        ("Game night with", "Rainy day fun:", "The kids can't stop playing"),
    ),
    Theme(
        "coffee", "Coffee & Tea",
        (
            (1868, "Single-Origin Beans", "Grind", ("Whole", "Filter", "Espresso"), (1400, 2900)),
            (2073, "Loose Leaf Green Tea", "Size", ("50 g", "100 g"), (900, 2200)),
            (673, "Double-Wall Glass Cup", "Size", ("250 ml", "350 ml"), (1400, 2600)),
            (736, "Hand Coffee Grinder", "Finish", ("Steel", "Black"), (3900, 9900)),
            (2073, "Chai Spice Blend", "Size", ("100 g", "250 g"), (1100, 2400)),
        ),
        ("Morning", "Roast", "Golden", "Slow", "Origin", "Brew"),
        ("coffee", "coffeetok", "tea", "latteart", "morningroutine"),
        ("Roasters", "Coffee Co", "Tea House", "Brew Bar"),
        ((111, 78, 55), (166, 123, 91), (236, 224, 209), (56, 34, 15)),
        ("My morning brew:", "How I make the perfect", "Café at home with"),
    ),
)  # fmt: skip

THEME_BY_KEY: dict[str, Theme] = {theme.key: theme for theme in THEMES}
