/*  sd_mail: RFC 5322 text mail, sent with libcurl's SMTP client.  */
#include "sd_mail.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sd_period.h"
#include "sd_utf8.h"

//  RFC 5322 limits a line to 998 octets before its CRLF.
#define S_MAX_LINE 998
//  Bytes of UTF-8 text per encoded word: 45 bytes give 60 base64
//  characters, so "=?UTF-8?B?...?=" stays within RFC 2047's 75.
#define S_WORD_BYTES 45
#define S_DEFAULT_TIMEOUT_MS 60000L
#define S_MAX_PASSWORD_BYTES 4096

//  A growing text buffer; failed is set once an append ran out of memory.
typedef struct {
    char *data;
    size_t length;
    size_t capacity;
    bool failed;
} s_text;

static void s_append(s_text *text, const char *bytes, size_t length)
{
    if (text->failed)
        return;
    if (text->length + length + 1 > text->capacity) {
        size_t capacity = (text->length + length + 1) * 2;
        char *data = realloc(text->data, capacity);
        if (!data) {
            text->failed = true;
            return;
        }
        text->data = data;
        text->capacity = capacity;
    }
    memcpy(text->data + text->length, bytes, length);
    text->length += length;
    text->data[text->length] = '\0';
}

static void s_append_string(s_text *text, const char *string)
{
    s_append(text, string, strlen(string));
}

__attribute__((format(printf, 2, 3))) static void s_append_format(s_text *text, const char *format,
                                                                  ...)
{
    char line[256];
    va_list args;
    va_start(args, format);
    int length = vsnprintf(line, sizeof line, format, args);
    va_end(args);
    if (length < 0 || (size_t)length >= sizeof line)
        text->failed = true;
    else
        s_append(text, line, (size_t)length);
}

bool sd_mail_address_valid(const char *address)
{
    const char *at = address ? strchr(address, '@') : NULL;
    if (!at || at == address || at[1] == '\0' || strchr(at + 1, '@') || strlen(address) > 254)
        return false;
    for (const unsigned char *p = (const unsigned char *)address; *p; p++) {
        if (*p <= ' ' || *p >= 0x7f || strchr("<>()[],;:\\\"", *p))
            return false;
    }
    return true;
}

static bool s_is_ascii(const char *text)
{
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        if (*p >= 0x80)
            return false;
    }
    return true;
}

static int s_check_parts(const sd_mail_message *message, char *error, size_t size);

//  Checks every address, the subject, the bodies and the parts. Returns 0,
//  or -1 with error filled.
static int s_check(const sd_mail_message *message, char *error, size_t size)
{
    if (!sd_mail_address_valid(message->from)) {
        snprintf(error, size, "invalid sender address \"%.100s\"; expected local@domain in ASCII",
                 message->from ? message->from : "");
        return -1;
    }
    if (message->reply_to && !sd_mail_address_valid(message->reply_to)) {
        snprintf(error, size, "invalid Reply-To address \"%.100s\"", message->reply_to);
        return -1;
    }
    if (message->recipient_count == 0) {
        snprintf(error, size, "no recipients; give at least one address");
        return -1;
    }
    for (size_t i = 0; i < message->recipient_count; i++) {
        if (!sd_mail_address_valid(message->recipients[i])) {
            snprintf(error, size,
                     "invalid recipient address \"%.100s\"; expected local@domain "
                     "in ASCII",
                     message->recipients[i] ? message->recipients[i] : "");
            return -1;
        }
    }
    const char *subject = message->subject ? message->subject : "";
    if (strpbrk(subject, "\r\n")) {
        snprintf(error, size, "the subject contains a line break; give it on one line");
        return -1;
    }
    if (!sd_utf8_valid(subject, strlen(subject), false, NULL) || !message->text ||
        !sd_utf8_valid(message->text, strlen(message->text), false, NULL) ||
        (message->html && !sd_utf8_valid(message->html, strlen(message->html), false, NULL))) {
        snprintf(error, size, "the subject or the body is not valid UTF-8 text");
        return -1;
    }
    if (!message->html && (message->inline_count > 0 || message->attachment_count > 0)) {
        snprintf(error, size, "inline parts and attachments need an HTML body");
        return -1;
    }
    return s_check_parts(message, error, size);
}

//  Returns true when text is non-empty and made only of ASCII letters,
//  digits and the characters of extra.
static bool s_token_valid(const char *text, const char *extra)
{
    if (!text || !*text || strlen(text) > 200)
        return false;
    for (const char *p = text; *p; p++) {
        bool alnum = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                     (*p >= '0' && *p <= '9');
        if (!alnum && !strchr(extra, *p))
            return false;
    }
    return true;
}

static int s_check_part(const sd_mail_part *part, bool is_inline, char *error, size_t size)
{
    //  A content type such as "text/csv; charset=utf-8": no quotes, no line
    //  breaks, so it cannot end its header early.
    if (!s_token_valid(part->content_type, "/.+-;= ")) {
        snprintf(error, size, "invalid MIME content type \"%.100s\"",
                 part->content_type ? part->content_type : "");
        return -1;
    }
    if (part->filename && !s_token_valid(part->filename, "._-")) {
        snprintf(error, size, "invalid attachment file name \"%.100s\"; use letters, digits, "
                 "'.', '_' and '-'", part->filename);
        return -1;
    }
    if (is_inline && !s_token_valid(part->content_id, "._-@")) {
        snprintf(error, size, "invalid Content-ID \"%.100s\" of an inline part",
                 part->content_id ? part->content_id : "");
        return -1;
    }
    if (!part->data && part->size > 0) {
        snprintf(error, size, "a MIME part has no data");
        return -1;
    }
    return 0;
}

static int s_check_parts(const sd_mail_message *message, char *error, size_t size)
{
    for (size_t i = 0; i < message->inline_count; i++) {
        if (s_check_part(&message->inline_parts[i], true, error, size) != 0)
            return -1;
    }
    for (size_t i = 0; i < message->attachment_count; i++) {
        if (s_check_part(&message->attachments[i], false, error, size) != 0)
            return -1;
    }
    return 0;
}

static void s_append_date(s_text *text, int64_t now_ms)
{
    static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    time_t seconds = (time_t)(now_ms / 1000);
    struct tm utc;
    if (!gmtime_r(&seconds, &utc)) {
        text->failed = true;
        return;
    }
    s_append_format(text, "Date: %s, %02d %s %04d %02d:%02d:%02d +0000\r\n", days[utc.tm_wday],
                    utc.tm_mday, months[utc.tm_mon], utc.tm_year + 1900, utc.tm_hour, utc.tm_min,
                    utc.tm_sec);
}

static void s_append_message_id(s_text *text, const char *from, int64_t now_ms)
{
    unsigned char bytes[12];
    if (RAND_bytes(bytes, sizeof bytes) != 1) {
        text->failed = true;
        return;
    }
    s_append_format(text, "Message-ID: <%" PRId64 ".", now_ms);
    for (size_t i = 0; i < sizeof bytes; i++)
        s_append_format(text, "%02x", bytes[i]);
    s_append_format(text, "@%s>\r\n", strchr(from, '@') + 1);
}

//  Returns how many bytes of text (at most S_WORD_BYTES) make up whole
//  UTF-8 characters, so that no encoded word splits a character.
static size_t s_word_length(const char *text, size_t left)
{
    size_t length = left < S_WORD_BYTES ? left : S_WORD_BYTES;
    while (length < left && length > 0 && ((unsigned char)text[length] & 0xC0) == 0x80)
        length--;
    return length;
}

//  Appends subject as encoded words, one per folded line.
static void s_append_encoded(s_text *text, const char *subject)
{
    size_t left = strlen(subject);
    bool first = true;
    while (left > 0) {
        size_t length = s_word_length(subject, left);
        unsigned char base64[4 * ((S_WORD_BYTES + 2) / 3) + 1];
        EVP_EncodeBlock(base64, (const unsigned char *)subject, (int)length);
        s_append_format(text, "%s=?UTF-8?B?%s?=", first ? "" : "\r\n ", (const char *)base64);
        first = false;
        subject += length;
        left -= length;
    }
}

static void s_append_headers(s_text *text, const sd_mail_message *message, int64_t now_ms)
{
    s_append_date(text, now_ms);
    s_append_message_id(text, message->from, now_ms);
    s_append_format(text, "From: %s\r\nTo: ", message->from);
    for (size_t i = 0; i < message->recipient_count; i++) {
        s_append_string(text, message->recipients[i]);
        s_append_string(text, i + 1 < message->recipient_count ? ",\r\n " : "\r\n");
    }
    if (message->reply_to)
        s_append_format(text, "Reply-To: %s\r\n", message->reply_to);

    //  ASCII subjects stay readable; a long one is still one header line,
    //  and the line limit keeps within RFC 5322's 998 octets.
    const char *subject = message->subject ? message->subject : "";
    s_append_string(text, "Subject: ");
    if (s_is_ascii(subject) && strlen(subject) <= S_MAX_LINE - 9)
        s_append_string(text, subject);
    else
        s_append_encoded(text, subject);
    s_append_string(text, "\r\nMIME-Version: 1.0\r\n");
}

//  Appends the body with CRLF line ends, breaking lines longer than
//  S_MAX_LINE octets. libcurl escapes lines that start with a dot.
static void s_append_body(s_text *text, const char *body)
{
    size_t column = 0;
    for (const char *p = body; *p; p++) {
        if (*p == '\r' && p[1] == '\n')
            continue;
        if (*p == '\n' || *p == '\r' || column == S_MAX_LINE) {
            s_append(text, "\r\n", 2);
            column = 0;
            if (*p == '\n' || *p == '\r')
                continue;
        }
        s_append(text, p, 1);
        column++;
    }
    if (column > 0)
        s_append(text, "\r\n", 2);
}

static void s_append_text_part(s_text *text, const char *body)
{
    s_append_string(text, "Content-Type: text/plain; charset=UTF-8\r\n"
                          "Content-Transfer-Encoding: 8bit\r\n\r\n");
    s_append_body(text, body);
}

//  Appends size bytes of data in base64, 76 characters a line (RFC 2045).
static void s_append_base64(s_text *text, const unsigned char *data, size_t size)
{
    for (size_t done = 0; done < size; done += 57) {
        size_t length = size - done < 57 ? size - done : 57;
        unsigned char line[77];
        EVP_EncodeBlock(line, data + done, (int)length);
        s_append_string(text, (const char *)line);
        s_append(text, "\r\n", 2);
    }
}

static void s_append_part(s_text *text, const sd_mail_part *part, bool is_inline)
{
    s_append_format(text, "Content-Type: %s\r\nContent-Transfer-Encoding: base64\r\n",
                    part->content_type);
    if (is_inline)
        s_append_format(text, "Content-ID: <%s>\r\n", part->content_id);
    s_append_string(text, is_inline ? "Content-Disposition: inline"
                                    : "Content-Disposition: attachment");
    if (part->filename)
        s_append_format(text, "; filename=\"%s\"", part->filename);
    s_append_string(text, "\r\n\r\n");
    s_append_base64(text, part->data, part->size);
}

//  Starts a multipart entity: its headers, then the preamble is empty.
static void s_open_multipart(s_text *text, const char *subtype, const char *boundary)
{
    s_append_format(text, "Content-Type: multipart/%s; boundary=\"%s\"\r\n\r\n", subtype,
                    boundary);
}

static void s_delimiter(s_text *text, const char *boundary, bool last)
{
    s_append_format(text, "\r\n--%s%s\r\n", boundary, last ? "--" : "");
}

//  Appends the HTML part, wrapped with its inline images in
//  multipart/related when there are any.
static void s_append_html(s_text *text, const sd_mail_message *message, const char *boundary)
{
    if (message->inline_count > 0) {
        s_open_multipart(text, "related", boundary);
        s_delimiter(text, boundary, false);
    }
    s_append_string(text, "Content-Type: text/html; charset=UTF-8\r\n"
                          "Content-Transfer-Encoding: base64\r\n\r\n");
    s_append_base64(text, (const unsigned char *)message->html, strlen(message->html));
    for (size_t i = 0; i < message->inline_count; i++) {
        s_delimiter(text, boundary, false);
        s_append_part(text, &message->inline_parts[i], true);
    }
    if (message->inline_count > 0)
        s_delimiter(text, boundary, true);
}

//  Appends the MIME body of a message with HTML. Boundaries are random
//  hex after "=_", which base64 never contains and text is unlikely to.
static void s_append_mime(s_text *text, const sd_mail_message *message)
{
    unsigned char random[12];
    if (RAND_bytes(random, sizeof random) != 1) {
        text->failed = true;
        return;
    }
    char base[32] = "=_sd";
    for (size_t i = 0; i < sizeof random; i++)
        snprintf(base + 4 + 2 * i, sizeof base - 4 - 2 * i, "%02x", random[i]);
    char mixed[40], alternative[40], related[40];
    snprintf(mixed, sizeof mixed, "%s_m", base);
    snprintf(alternative, sizeof alternative, "%s_a", base);
    snprintf(related, sizeof related, "%s_r", base);

    bool with_attachments = message->attachment_count > 0;
    if (with_attachments) {
        s_open_multipart(text, "mixed", mixed);
        s_delimiter(text, mixed, false);
    }
    s_open_multipart(text, "alternative", alternative);
    s_delimiter(text, alternative, false);
    s_append_text_part(text, message->text);
    s_delimiter(text, alternative, false);
    s_append_html(text, message, related);
    s_delimiter(text, alternative, true);
    for (size_t i = 0; i < message->attachment_count; i++) {
        s_delimiter(text, mixed, false);
        s_append_part(text, &message->attachments[i], false);
    }
    if (with_attachments)
        s_delimiter(text, mixed, true);
}

char *sd_mail_format(const sd_mail_message *message, int64_t now_ms, char *error, size_t size)
{
    if (s_check(message, error, size) != 0)
        return NULL;
    s_text text = {0};
    s_append_headers(&text, message, now_ms);
    if (message->html)
        s_append_mime(&text, message);
    else
        s_append_text_part(&text, message->text);
    if (text.failed) {
        snprintf(error, size, "out of memory while formatting the mail");
        free(text.data);
        return NULL;
    }
    return text.data;
}

struct sd_mail_upload {
    CURL *curl;
    struct curl_slist *recipients;
    char *text;                     //  the formatted message
    const char *next;               //  first byte libcurl has not read yet
    size_t left;
    char curl_error[CURL_ERROR_SIZE];
};

static size_t s_read(char *buffer, size_t size, size_t count, void *arg)
{
    sd_mail_upload *upload = arg;
    size_t length = size * count < upload->left ? size * count : upload->left;
    memcpy(buffer, upload->next, length);
    upload->next += length;
    upload->left -= length;
    return length;
}

//  Sets the options of one transfer. Returns CURLE_OK or the first error.
static CURLcode s_configure(sd_mail_upload *upload, const sd_mail_server *server,
                            const sd_mail_message *message)
{
    CURL *curl = upload->curl;
    char sender[300];
    snprintf(sender, sizeof sender, "<%s>", message->from);
    CURLcode rc = CURLE_OK;
    long timeout_ms = server->timeout_ms > 0 ? server->timeout_ms : S_DEFAULT_TIMEOUT_MS;
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(curl, CURLOPT_URL, server->url);
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(curl, CURLOPT_MAIL_FROM, sender);
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, upload->recipients);
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(curl, CURLOPT_READFUNCTION, s_read);
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(curl, CURLOPT_READDATA, upload);
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, timeout_ms);
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, upload->curl_error);
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(curl, CURLOPT_PRIVATE, upload);
    if (rc == CURLE_OK && server->starttls)
        rc = curl_easy_setopt(curl, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
    if (rc == CURLE_OK && server->user && server->password)
        rc = curl_easy_setopt(curl, CURLOPT_USERNAME, server->user);
    if (rc == CURLE_OK && server->user && server->password)
        rc = curl_easy_setopt(curl, CURLOPT_PASSWORD, server->password);
    return rc;
}

//  Lists the envelope recipients as "<address>". Returns NULL when out of
//  memory.
static struct curl_slist *s_recipient_list(const sd_mail_message *message)
{
    struct curl_slist *list = NULL;
    for (size_t i = 0; i < message->recipient_count; i++) {
        char item[300];
        snprintf(item, sizeof item, "<%s>", message->recipients[i]);
        struct curl_slist *next = curl_slist_append(list, item);
        if (!next) {
            curl_slist_free_all(list);
            return NULL;
        }
        list = next;
    }
    return list;
}

sd_mail_upload *sd_mail_upload_new(const sd_mail_server *server, const sd_mail_message *message,
                                   char *error, size_t size)
{
    if (!server->url || !*server->url) {
        snprintf(error, size, "no SMTP server configured; set smtp.url");
        return NULL;
    }
    sd_mail_upload *upload = calloc(1, sizeof *upload);
    if (!upload) {
        snprintf(error, size, "out of memory while preparing the mail");
        return NULL;
    }
    upload->text = sd_mail_format(message, sd_now_ms(), error, size);
    if (!upload->text) {
        sd_mail_upload_destroy(&upload);
        return NULL;
    }
    upload->next = upload->text;
    upload->left = strlen(upload->text);
    upload->recipients = s_recipient_list(message);
    upload->curl = upload->recipients ? curl_easy_init() : NULL;
    CURLcode rc = upload->curl ? s_configure(upload, server, message) : CURLE_OUT_OF_MEMORY;
    if (rc != CURLE_OK) {
        snprintf(error, size, "preparing the mail transfer failed: %s", curl_easy_strerror(rc));
        sd_mail_upload_destroy(&upload);
    }
    return upload;
}

CURL *sd_mail_upload_handle(sd_mail_upload *upload)
{
    return upload->curl;
}

void sd_mail_upload_describe(sd_mail_upload *upload, CURLcode rc, const char *url, char *error,
                             size_t size)
{
    long code = 0;
    curl_easy_getinfo(upload->curl, CURLINFO_RESPONSE_CODE, &code);
    snprintf(error, size, "sending mail through %s failed: %s (last SMTP reply %ld)", url,
             *upload->curl_error ? upload->curl_error : curl_easy_strerror(rc), code);
}

void sd_mail_upload_destroy(sd_mail_upload **upload_p)
{
    sd_mail_upload *upload = *upload_p;
    if (!upload)
        return;
    if (upload->curl)
        curl_easy_cleanup(upload->curl);
    curl_slist_free_all(upload->recipients);
    free(upload->text);
    free(upload);
    *upload_p = NULL;
}

int sd_mail_send(const sd_mail_server *server, const sd_mail_message *message, char *error,
                 size_t size)
{
    sd_mail_upload *upload = sd_mail_upload_new(server, message, error, size);
    if (!upload)
        return -1;
    CURLcode rc = curl_easy_perform(upload->curl);
    if (rc != CURLE_OK)
        sd_mail_upload_describe(upload, rc, server->url, error, size);
    sd_mail_upload_destroy(&upload);
    return rc == CURLE_OK ? 0 : -1;
}

char *sd_mail_read_password(const char *path, char *error, size_t size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat info;
    if (fd < 0 || fstat(fd, &info) != 0) {
        snprintf(error, size, "cannot read the SMTP password file %s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    char *password = NULL;
    if (!S_ISREG(info.st_mode))
        snprintf(error, size, "the SMTP password file %s is not a regular file", path);
    else if (info.st_mode & (S_IRWXG | S_IRWXO))
        snprintf(error, size,
                 "the SMTP password file %s is accessible by group or others; run "
                 "chmod 600 %s",
                 path, path);
    else if (info.st_size > S_MAX_PASSWORD_BYTES)
        snprintf(error, size, "the SMTP password file %s is larger than %d bytes", path,
                 S_MAX_PASSWORD_BYTES);
    else if (!(password = calloc(1, (size_t)info.st_size + 1)))
        snprintf(error, size, "out of memory while reading %s", path);
    else if (read(fd, password, (size_t)info.st_size) != info.st_size) {
        snprintf(error, size, "cannot read the SMTP password file %s", path);
        explicit_bzero(password, (size_t)info.st_size + 1);
        free(password);
        password = NULL;
    }
    close(fd);
    if (password) {
        size_t length = strlen(password);
        if (length > 0 && password[length - 1] == '\n')
            password[--length] = '\0';
        if (length > 0 && password[length - 1] == '\r')
            password[length - 1] = '\0';
    }
    return password;
}
