/*  sd_cell: metric arithmetic with integers kept exact, and cell helpers.  */
#include "sd_cell.h"

#include "sd_keymap.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

sd_number sd_number_int(int64_t value)
{
    return (sd_number){.is_float = false, .i = value};
}

sd_number sd_number_float(double value)
{
    return (sd_number){.is_float = true, .f = isfinite(value) ? value : 0.0};
}

sd_number sd_number_from_cell(const sd_value *cell)
{
    if (cell->kind == SD_VALUE_INT)
        return sd_number_int(cell->as.i);
    if (cell->kind == SD_VALUE_FLOAT)
        return sd_number_float(cell->as.f);
    return sd_number_int(0);
}

double sd_number_as_double(sd_number number)
{
    return number.is_float ? number.f : (double)number.i;
}

bool sd_number_is_zero(sd_number number)
{
    return number.is_float ? number.f == 0.0 : number.i == 0;
}

sd_number sd_number_add(sd_number a, sd_number b)
{
    int64_t sum;
    if (!a.is_float && !b.is_float && !__builtin_add_overflow(a.i, b.i, &sum))
        return sd_number_int(sum);
    return sd_number_float(sd_number_as_double(a) + sd_number_as_double(b));
}

sd_number sd_number_subtract(sd_number a, sd_number b)
{
    int64_t difference;
    if (!a.is_float && !b.is_float && !__builtin_sub_overflow(a.i, b.i, &difference))
        return sd_number_int(difference);
    return sd_number_float(sd_number_as_double(a) - sd_number_as_double(b));
}

int sd_number_compare(sd_number a, sd_number b)
{
    if (!a.is_float && !b.is_float)
        return (a.i > b.i) - (a.i < b.i);
    double x = sd_number_as_double(a);
    double y = sd_number_as_double(b);
    return (x > y) - (x < y);
}

void sd_number_to_cell(sd_number number, sd_value *cell)
{
    if (number.is_float) {
        cell->kind = SD_VALUE_FLOAT;
        cell->as.f = number.f;
    }
    else {
        cell->kind = SD_VALUE_INT;
        cell->as.i = number.i;
    }
}

bool sd_cell_is_number(const sd_value *cell)
{
    return cell->kind == SD_VALUE_INT || cell->kind == SD_VALUE_NIL
           || (cell->kind == SD_VALUE_FLOAT && isfinite(cell->as.f));
}

int sd_cell_copy(sd_value *dst, const sd_value *src)
{
    if (src->kind == SD_VALUE_STRING)
        return sd_value_set_string(dst, src->as.s.ptr, src->as.s.len);
    *dst = *src;
    return 0;
}

//  Orders doubles totally: NaN (which a peer could send as a key) sorts
//  by its bits after every other value, so sorting stays deterministic.
static int s_compare_doubles(double x, double y)
{
    if (!isnan(x) && !isnan(y))
        return (x > y) - (x < y);
    if (isnan(x) != isnan(y))
        return isnan(x) ? 1 : -1;
    return memcmp(&x, &y, sizeof x);
}

int sd_cell_compare(const sd_value *a, const sd_value *b)
{
    if (a->kind != b->kind)
        return a->kind < b->kind ? -1 : 1;
    switch (a->kind) {
    case SD_VALUE_BOOL:
        return (int)a->as.b - (int)b->as.b;
    case SD_VALUE_INT:
        return (a->as.i > b->as.i) - (a->as.i < b->as.i);
    case SD_VALUE_FLOAT:
        return s_compare_doubles(a->as.f, b->as.f);
    case SD_VALUE_STRING: {
        size_t common = a->as.s.len < b->as.s.len ? a->as.s.len : b->as.s.len;
        int order = common ? memcmp(a->as.s.ptr, b->as.s.ptr, common) : 0;
        if (order != 0)
            return order;
        return (a->as.s.len > b->as.s.len) - (a->as.s.len < b->as.s.len);
    }
    default:
        return 0;
    }
}

bool sd_cell_equal(const sd_value *a, const sd_value *b)
{
    if (a->kind != b->kind)
        return false;
    switch (a->kind) {
    case SD_VALUE_BOOL:
        return a->as.b == b->as.b;
    case SD_VALUE_INT:
        return a->as.i == b->as.i;
    case SD_VALUE_FLOAT:
        return memcmp(&a->as.f, &b->as.f, sizeof a->as.f) == 0;
    case SD_VALUE_STRING:
        return a->as.s.len == b->as.s.len
               && (a->as.s.len == 0 || memcmp(a->as.s.ptr, b->as.s.ptr, a->as.s.len) == 0);
    default:
        return true;
    }
}

uint64_t sd_cell_hash(const sd_value *cell, uint64_t seed)
{
    uint64_t kind = (uint64_t)cell->kind;
    switch (cell->kind) {
    case SD_VALUE_BOOL:
        return sd_keymap_hash(&cell->as.b, sizeof cell->as.b, seed + kind);
    case SD_VALUE_INT:
        return sd_keymap_hash(&cell->as.i, sizeof cell->as.i, seed + kind);
    case SD_VALUE_FLOAT:
        return sd_keymap_hash(&cell->as.f, sizeof cell->as.f, seed + kind);
    case SD_VALUE_STRING:
        return sd_keymap_hash(cell->as.s.ptr, cell->as.s.len, seed + kind);
    default:
        return sd_keymap_hash(NULL, 0, seed + kind);
    }
}

size_t sd_cell_key_size(const sd_value *cell)
{
    switch (cell->kind) {
    case SD_VALUE_BOOL:
        return 2;
    case SD_VALUE_INT:
    case SD_VALUE_FLOAT:
        return 1 + 8;
    case SD_VALUE_STRING:
        return 1 + sizeof(size_t) + cell->as.s.len;
    default:
        return 1;
    }
}

size_t sd_cell_write_key(const sd_value *cell, uint8_t *out)
{
    out[0] = (uint8_t)cell->kind;
    switch (cell->kind) {
    case SD_VALUE_BOOL:
        out[1] = cell->as.b ? 1 : 0;
        return 2;
    case SD_VALUE_INT:
        memcpy(out + 1, &cell->as.i, 8);
        return 1 + 8;
    case SD_VALUE_FLOAT:
        memcpy(out + 1, &cell->as.f, 8);
        return 1 + 8;
    case SD_VALUE_STRING:
        memcpy(out + 1, &cell->as.s.len, sizeof(size_t));
        if (cell->as.s.len > 0)
            memcpy(out + 1 + sizeof(size_t), cell->as.s.ptr, cell->as.s.len);
        return 1 + sizeof(size_t) + cell->as.s.len;
    default:
        return 1;
    }
}
