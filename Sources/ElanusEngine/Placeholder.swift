public enum PlaceholderElanusEngine {}
